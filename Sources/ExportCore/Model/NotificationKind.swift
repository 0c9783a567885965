import Foundation

/// Which terminal notification a job needs.
public struct NotificationKind: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The stable name, such as `ready`.
    public let rawValue: String

    /// Wraps a stable name.
    ///
    /// - Parameters:
    ///   - rawValue: The name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// "Your export is ready", with the download link.
    public static let ready = NotificationKind(rawValue: "ready")
    /// "Your export failed", with the reason.
    public static let failed = NotificationKind(rawValue: "failed")

    /// The stable name.
    public var description: String { rawValue }

    /// Decodes the stable name.
    ///
    /// - Parameters:
    ///   - decoder: The decoder.
    /// - Throws: A decoding error for a value that is not a string.
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes the stable name.
    ///
    /// - Parameters:
    ///   - encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
