extension FileMembershipSource {
    /// The layout of a membership file.
    public struct Format: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: Hashable, Sendable { case csv, jsonLines }
        fileprivate let value: Value

        /// RFC 4180 CSV with a header row: the standard column names (`membership_id`, `user_id`,
        /// `organization_id`, `organization_name`, `plan`, `role`, `status`, `started_at`, `ended_at`,
        /// `renews_at`, `amount`, `currency`); any other column becomes an attribute of that name. Dates
        /// are RFC 3339 date-times, read strictly (see `RFC3339`).
        public static let csv = Format(value: .csv)
        /// JSON Lines: one `Membership` JSON object per line (its `Codable` form; dates as RFC 3339
        /// text, read strictly as `RFC3339` says, or seconds since 1970).
        public static let jsonLines = Format(value: .jsonLines)

        /// Whether this is CSV.
        var isCSV: Bool { value == .csv }

        /// Guesses the format from a file name: `.jsonl`/`.ndjson` is JSON Lines, anything else CSV.
        ///
        /// - Parameters:
        ///   - path: The file's path or name.
        /// - Returns: The format.
        public static func guess(fromPath path: String) -> Format {
            path.hasSuffix(".jsonl") || path.hasSuffix(".ndjson") ? .jsonLines : .csv
        }

        /// `csv` or `jsonl`.
        public var description: String { value == .csv ? "csv" : "jsonl" }
    }
}
