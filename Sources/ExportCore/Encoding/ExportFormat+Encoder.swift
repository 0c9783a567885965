extension ExportFormat {
    /// Whether this build can encode the format: CSV, gzip-compressed CSV and JSON Lines all are.
    public var isSupported: Bool { self == .csv || self == .csvGzip || self == .jsonLines }

    /// Makes the row encoder for this format.
    ///
    /// - Parameters:
    ///   - columns: The columns, in order.
    ///   - csv: The CSV dialect, for the CSV formats.
    ///   - compressionLevel: The gzip level for `.csv.gz`, 0 (store) to 9 (smallest); 6 by default.
    /// - Returns: A fresh encoder, to be driven by a ``ChunkedEncoder``.
    /// - Throws: ``ExportError/Code/configuration`` for a bad delimiter or compression level;
    ///   ``ExportError/Code/unsupportedFormat`` for a format this build cannot write.
    public func makeEncoder(
        columns: [ExportColumn],
        csv: CSVOptions = CSVOptions(),
        compressionLevel: Int = 6
    ) throws(ExportError) -> any RowEncoder {
        switch self {
        case .csv: return try CSVEncoder(columns: columns, options: csv)
        case .csvGzip: return try GzipEncoder(CSVEncoder(columns: columns, options: csv), level: compressionLevel)
        case .jsonLines: return JSONLinesEncoder(columns: columns)
        default: throw ExportError(.unsupportedFormat, "the \(identifier) format is not supported")
        }
    }
}
