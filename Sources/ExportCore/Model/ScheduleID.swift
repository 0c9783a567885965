import Foundation

/// The identifier of an export schedule: 1 to 40 characters from `A-Z a-z 0-9 - _`, so the id of each
/// occurrence's job (``ExportSchedule/occurrenceJobID(for:)``) is a valid ``JobID``.
public struct ScheduleID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The id as text.
    public let rawValue: String

    /// Validates an id received from outside.
    ///
    /// - Parameters:
    ///   - rawValue: The candidate id.
    /// - Returns: `nil` when the text is empty, longer than 40 characters, or has other characters.
    public init?(_ rawValue: String) {
        guard rawValue.utf8.count <= 40, JobID(rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }

    /// A new random id (a lower-case UUID).
    ///
    /// - Returns: A fresh id.
    public static func random() -> ScheduleID { ScheduleID(JobID.random().rawValue)! }

    /// The id as text.
    public var description: String { rawValue }

    /// Orders ids by their text.
    ///
    /// - Parameters:
    ///   - lhs: One id.
    ///   - rhs: Another id.
    /// - Returns: Whether `lhs` sorts before `rhs`.
    public static func < (lhs: ScheduleID, rhs: ScheduleID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes and validates an id.
    ///
    /// - Parameters:
    ///   - decoder: The decoder to read from.
    /// - Throws: A decoding error when the text is not a valid schedule id.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = ScheduleID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a schedule id: \(text.prefix(80))")
        }
        self = id
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
