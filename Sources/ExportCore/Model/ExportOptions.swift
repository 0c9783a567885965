/// What the user asked for: the file format and the columns, in order.
public struct ExportOptions: Hashable, Sendable, Codable {
    /// The output format.
    public var format: ExportFormat
    /// The columns, in file order; `nil` means the service's configured default columns.
    public var columns: [ExportColumn]?
    /// The time range the export covers, or `nil` for every membership.
    public var range: ExportTimeRange?

    /// Creates options.
    ///
    /// - Parameters:
    ///   - format: The output format; CSV by default.
    ///   - columns: The columns in order; `nil` for the configured default.
    ///   - range: The time range, or `nil` for every membership.
    public init(format: ExportFormat = .csv, columns: [ExportColumn]? = nil, range: ExportTimeRange? = nil) {
        self.format = format
        self.columns = columns
        self.range = range
    }
}
