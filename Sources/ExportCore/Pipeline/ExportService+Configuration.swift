extension ExportService {
    /// How the service validates and limits requests.
    public struct Configuration: Sendable {
        /// The columns of an export that names none, in order.
        public var defaultColumns: [ExportColumn]
        /// The host attribute names a request may ask for besides the standard columns.
        public var attributeColumns: [String]
        /// The per-owner request limit, or `nil` for none.
        public var rateLimit: RateLimit?
        /// How long a finished job and its file are kept; links never outlive it.
        public var retention: Duration
        /// Makes the id of a new job; random UUIDs by default.
        public var makeJobID: @Sendable () -> JobID

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - defaultColumns: The default columns; every standard column by default.
        ///   - attributeColumns: Host attribute names that may be requested.
        ///   - rateLimit: The per-owner limit; 10 requests per hour by default.
        ///   - retention: How long finished jobs are kept; 7 days by default.
        ///   - makeJobID: Makes new job ids.
        public init(
            defaultColumns: [ExportColumn] = ExportColumn.standard,
            attributeColumns: [String] = [],
            rateLimit: RateLimit? = RateLimit(maxRequests: 10, per: .seconds(3600)),
            retention: Duration = .seconds(7 * 24 * 3600),
            makeJobID: @escaping @Sendable () -> JobID = { JobID.random() }
        ) {
            self.defaultColumns = defaultColumns
            self.attributeColumns = attributeColumns
            self.rateLimit = rateLimit
            self.retention = retention
            self.makeJobID = makeJobID
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
