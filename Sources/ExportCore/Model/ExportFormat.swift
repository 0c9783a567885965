/// An output format: how rows become bytes, and what the file is called and served as.
///
/// Formats are static members rather than an enum so new ones can be added without breaking hosts.
public struct ExportFormat: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The format's stable name, as used in requests: `csv`, `csv.gz` or `jsonl`.
    public let identifier: String
    /// The MIME type the file is stored and served with.
    public let contentType: String
    /// The file name extension, without a leading dot.
    public let fileExtension: String

    private init(identifier: String, contentType: String, fileExtension: String) {
        self.identifier = identifier
        self.contentType = contentType
        self.fileExtension = fileExtension
    }

    /// RFC 4180 comma-separated values.
    public static let csv = ExportFormat(identifier: "csv", contentType: "text/csv; charset=utf-8", fileExtension: "csv")
    /// CSV compressed with gzip.
    public static let csvGzip = ExportFormat(identifier: "csv.gz", contentType: "application/gzip", fileExtension: "csv.gz")
    /// JSON Lines: one JSON object per row.
    public static let jsonLines = ExportFormat(identifier: "jsonl", contentType: "application/jsonl", fileExtension: "jsonl")

    /// Every format the library knows.
    public static let all: [ExportFormat] = [.csv, .csvGzip, .jsonLines]

    /// Looks a format up by its identifier.
    ///
    /// - Parameters:
    ///   - identifier: `csv`, `csv.gz` or `jsonl`.
    /// - Returns: `nil` for an unknown identifier.
    public init?(identifier: String) {
        guard let format = Self.all.first(where: { $0.identifier == identifier }) else { return nil }
        self = format
    }

    /// The identifier.
    public var description: String { identifier }

    /// Decodes a format from its identifier.
    ///
    /// - Parameters:
    ///   - decoder: The decoder to read from.
    /// - Throws: A decoding error for an unknown identifier.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let identifier = try container.decode(String.self)
        guard let format = ExportFormat(identifier: identifier) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown format \(identifier.prefix(40))")
        }
        self = format
    }

    /// Encodes the identifier.
    ///
    /// - Parameters:
    ///   - encoder: The encoder to write to.
    /// - Throws: An encoding error from `encoder`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(identifier)
    }
}
