/// The identity of an operator as the host's authentication knows it: the person or system that uses
/// ``ExportAdministration``.
///
/// Distinct from ``UserID`` on purpose: a user id can never be passed where an operator is expected,
/// so an operator route cannot be reached with a user's identity by mistake. Every operator action
/// emits an ``ExportEvent`` whose ``ExportEvent/operatorID`` is this identity.
public struct OperatorID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The host's identifier for the operator.
    public let rawValue: String

    /// Wraps a host identifier.
    ///
    /// - Parameters:
    ///   - rawValue: The host's identifier for the operator.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Wraps a host identifier.
    ///
    /// - Parameters:
    ///   - rawValue: The host's identifier for the operator.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// Wraps a string literal, for tests and examples.
    ///
    /// - Parameters:
    ///   - value: The identifier.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The identifier itself.
    public var description: String { rawValue }

    /// Decodes from a bare string.
    ///
    /// - Parameters:
    ///   - decoder: The decoder to read from.
    /// - Throws: A decoding error when the value is not a string.
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes as a bare string.
    ///
    /// - Parameters:
    ///   - encoder: The encoder to write to.
    /// - Throws: An encoding error from `encoder`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
