extension ExportService {
    /// How the service validates and limits requests.
    public struct Configuration: Sendable {
        /// The columns of an export that names none, in order.
        public var defaultColumns: [ExportColumn]
        /// The host attribute names a request may ask for besides the standard columns.
        public var attributeColumns: [String]
        /// The per-owner request limit, or `nil` for none.
        public var rateLimit: RateLimit?
        /// Makes the id of a new job; random UUIDs by default.
        public var makeJobID: @Sendable () -> JobID
        /// Makes the id of a new schedule; random UUIDs by default.
        public var makeScheduleID: @Sendable () -> ScheduleID = { ScheduleID.random() }
        /// The most schedules one owner may have; 20 by default.
        public var maxSchedulesPerOwner: Int = 20

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - defaultColumns: The default columns; every standard column by default.
        ///   - attributeColumns: Host attribute names that may be requested.
        ///   - rateLimit: The per-owner limit; 10 requests per hour by default.
        ///   - makeJobID: Makes new job ids.
        public init(
            defaultColumns: [ExportColumn] = ExportColumn.standard,
            attributeColumns: [String] = [],
            rateLimit: RateLimit? = RateLimit(maxRequests: 10, per: .seconds(3600)),
            makeJobID: @escaping @Sendable () -> JobID = { JobID.random() }
        ) {
            self.defaultColumns = defaultColumns
            self.attributeColumns = attributeColumns
            self.rateLimit = rateLimit
            self.makeJobID = makeJobID
        }

        /// Checks the configuration.
        ///
        /// - Throws: ``ExportError/Code/configuration`` for an empty default column list, a duplicate
        ///   column, or an attribute name that is also a standard column.
        public func validate() throws(ExportError) {
            guard !defaultColumns.isEmpty else {
                throw ExportError(.configuration, "configuration.defaultColumns must name at least one column")
            }
            guard Set(defaultColumns.map(\.name)).count == defaultColumns.count else {
                throw ExportError(.configuration, "configuration.defaultColumns lists a column twice")
            }
            for name in attributeColumns {
                if case .attribute = ExportColumn(named: name).source { continue }
                throw ExportError(.configuration, "configuration.attributeColumns names the standard column \(String(reflecting: name))")
            }
        }
    }

    /// At most ``maxRequests`` new exports per owner within any ``window``.
    ///
    /// The count comes from the job store (the owner's jobs created within the window), so it holds
    /// across service instances without a separate counter. Two requests racing on two instances may
    /// both pass when one slot is left; the de-duplication of active exports still allows only one job.
    public struct RateLimit: Hashable, Sendable {
        /// The most new exports within the window.
        public var maxRequests: Int
        /// The sliding window.
        public var window: Duration

        /// Creates a limit.
        ///
        /// - Parameters:
        ///   - maxRequests: The most new exports within the window (at least 1).
        ///   - window: The sliding window.
        public init(maxRequests: Int, per window: Duration) {
            self.maxRequests = max(1, maxRequests)
            self.window = window
        }
    }
}
