/// A storage key that cannot escape its store: relative, `/`-separated segments of safe characters.
///
/// Each segment is 1 to 128 bytes of `A-Z a-z 0-9 . _ -` and is neither `.` nor `..`; the whole key is
/// at most 512 bytes. There are no absolute paths, no empty segments, no backslashes, no NUL, no
/// percent-encoding and no Unicode that could normalise into something else. Adapters can therefore
/// map a key to a file path or an object name verbatim.
public struct BlobKey: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The key as text.
    public let rawValue: String

    /// Validates a key.
    ///
    /// - Parameters:
    ///   - rawValue: The candidate key, such as `exports/user-1/job.csv`.
    /// - Throws: ``ExportError/Code/invalidKey`` naming what is wrong.
    public init(validating rawValue: String) throws(ExportError) {
        if let problem = Self.problem(with: rawValue) {
            throw ExportError(.invalidKey, "invalid blob key \(String(reflecting: String(rawValue.prefix(80)))): \(problem)")
        }
        self.rawValue = rawValue
    }

    /// Validates a key.
    ///
    /// - Parameters:
    ///   - rawValue: The candidate key.
    /// - Returns: `nil` when the key is not acceptable.
    public init?(_ rawValue: String) {
        guard Self.problem(with: rawValue) == nil else { return nil }
        self.rawValue = rawValue
    }

    /// The key's segments.
    public var segments: [Substring] { rawValue.split(separator: "/") }

    private static func problem(with text: String) -> String? {
        let bytes = text.utf8
        if bytes.isEmpty { return "it is empty" }
        if bytes.count > 512 { return "it is longer than 512 bytes" }
        for segment in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if segment.isEmpty { return "it has an empty segment (a leading, trailing or double slash)" }
            if segment.count > 128 { return "a segment is longer than 128 bytes" }
            if segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) { return "a segment is . or .." }
            for byte in segment {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    continue
                default:
                    return "it contains a character other than A-Z a-z 0-9 . _ - /"
                }
            }
        }
        return nil
    }

    /// The key.
    public var description: String { rawValue }

    /// Orders keys by their text.
    ///
    /// - Parameters:
    ///   - lhs: One key.
    ///   - rhs: Another key.
    /// - Returns: Whether `lhs` sorts first.
    public static func < (lhs: BlobKey, rhs: BlobKey) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes and validates a key.
    ///
    /// - Parameters:
    ///   - decoder: The decoder to read from.
    /// - Throws: A decoding error when the key is not acceptable.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let key = BlobKey(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "invalid blob key")
        }
        self = key
    }

    /// Encodes the key as text.
    ///
    /// - Parameters:
    ///   - encoder: The encoder to write to.
    /// - Throws: An encoding error from `encoder`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
