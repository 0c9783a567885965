import Foundation

/// The identifier of an export job: 1 to 64 characters from `A-Z a-z 0-9 - _`.
///
/// The restricted alphabet makes a job id safe to use verbatim in file names, object keys, URLs and
/// e-mail headers. New ids are random UUIDs in lower case.
public struct JobID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The id as text.
    public let rawValue: String

    /// Validates a job id received from outside (a URL path, a queue message, a file name).
    ///
    /// - Parameters:
    ///   - rawValue: The candidate id.
    /// - Returns: `nil` when the text is empty, longer than 64 characters, or has other characters.
    public init?(_ rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// A new random id (a lower-case UUID).
    ///
    /// - Parameters:
    ///   - generator: The source of randomness; inject a seeded one for deterministic tests.
    /// - Returns: A fresh id.
    public static func random(using generator: inout some RandomNumberGenerator) -> JobID {
        // Two 64-bit draws, not sixteen byte draws: with the system generator each draw is a getrandom(2)
        // call, and a job id is made on every request.
        var high: UInt64 = generator.next()
        var low: UInt64 = generator.next()
        high = (high & ~0xF000) | 0x4000  // version 4 (the high nibble of byte 6)
        low = (low & ~(0xC000 << 48)) | (0x8000 << 48)  // variant 10 (the top bits of byte 8)
        let digits = Array("0123456789abcdef".utf8)
        let text = String(unsafeUninitializedCapacity: 36) { buffer in
            var position = 0
            for index in 0..<32 {
                if index == 8 || index == 12 || index == 16 || index == 20 {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                let word = index < 16 ? high : low
                let shift = UInt64(60 - 4 * (index % 16))
                buffer[position] = digits[Int((word >> shift) & 0xF)]
                position += 1
            }
            return position
        }
        return JobID(unchecked: text)
    }

    /// A new random id from the system's random source.
    ///
    /// - Returns: A fresh id.
    public static func random() -> JobID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    private init(unchecked rawValue: String) { self.rawValue = rawValue }

    private static func isValid(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard (1...64).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                true
            default:
                false
            }
        }
    }

    /// The id as text.
    public var description: String { rawValue }

    /// Orders ids by their text.
    ///
    /// - Parameters:
    ///   - lhs: One id.
    ///   - rhs: Another id.
    /// - Returns: Whether `lhs` sorts before `rhs`.
    public static func < (lhs: JobID, rhs: JobID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes and validates an id.
    ///
    /// - Parameters:
    ///   - decoder: The decoder to read from.
    /// - Throws: A decoding error when the text is not a valid job id.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard Self.isValid(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a job id: \(text.prefix(80))")
        }
        rawValue = text
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
