/// The identity of a user as the host's authentication knows it: the owner of exports and memberships.
///
/// The library never reads a user id from a request body or path; the host passes the authenticated
/// principal, and every lookup is scoped by it.
public struct UserID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The host's identifier for the user.
    public let rawValue: String

    /// Wraps a host identifier.
    ///
    /// - Parameters:
    ///   - rawValue: The host's identifier for the user.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Wraps a host identifier.
    ///
    /// - Parameters:
    ///   - rawValue: The host's identifier for the user.
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
