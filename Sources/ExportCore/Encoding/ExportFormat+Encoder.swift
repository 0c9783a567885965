extension ExportFormat {
    /// Whether this build can encode the format.
    public var isSupported: Bool { self == .csv }

    /// Makes the row encoder for this format.
    ///
    /// - Parameters:
    ///   - columns: The columns, in order.
    ///   - csv: The CSV dialect, for the CSV formats.
    /// - Returns: A fresh encoder.
    /// - Throws: ``ExportError/Code/unsupportedFormat`` for a format this build cannot write.
    public func makeEncoder(columns: [ExportColumn], csv: CSVOptions = CSVOptions()) throws(ExportError) -> any RowEncoder {
        switch self {
        case .csv: return try CSVEncoder(columns: columns, options: csv)
        default: throw ExportError(.unsupportedFormat, "the \(identifier) format is not supported yet")
        }
    }
}
