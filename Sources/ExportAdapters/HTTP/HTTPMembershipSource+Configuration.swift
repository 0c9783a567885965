import ExportCore
import Foundation

extension HTTPMembershipSource {
    /// Where the host's memberships API is and how to read it.
    public struct Configuration: Sendable {
        /// The URL with `{owner}` where the user id goes, such as
        /// `https://api.example.com/v1/users/{owner}/memberships?expand=org`.
        public var urlTemplate: String
        /// The query parameter that carries the cursor.
        public var cursorParameter: String
        /// The query parameter that carries the page size.
        public var limitParameter: String
        /// A bearer token sent as `Authorization: Bearer <token>`, if the API needs one.
        public var bearerToken: String?
        /// Dotted path of the rows array in the response, such as `data` or `result.items`.
        public var itemsPath: String
        /// Dotted path of the next cursor (a string, `null` or absent on the last page).
        public var nextCursorPath: String
        /// Where each membership field is in a row.
        public var fields: FieldMapping
        /// How long one request may take.
        public var timeout: Duration
        /// Attempts per page, the first included, before a retryable failure is thrown.
        public var maxAttempts: Int
        /// The first backoff delay; it doubles per attempt up to ``maximumBackoff``.
        public var initialBackoff: Duration
        /// The longest backoff delay.
        public var maximumBackoff: Duration
        /// The longest `Retry-After` honoured; a longer one ends the retries (the job retries later).
        public var maximumRetryAfter: Duration

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - urlTemplate: The URL with `{owner}`.
        ///   - cursorParameter: The cursor parameter; `cursor` by default.
        ///   - limitParameter: The page size parameter; `limit` by default.
        ///   - bearerToken: A bearer token, if needed.
        ///   - itemsPath: The rows' path; `data` by default.
        ///   - nextCursorPath: The next cursor's path; `next_cursor` by default.
        ///   - fields: The field mapping; snake_case names by default.
        ///   - timeout: Per request; 10 seconds by default.
        ///   - maxAttempts: Attempts per page; 4 by default.
        ///   - initialBackoff: The first backoff; 500 ms by default.
        ///   - maximumBackoff: The longest backoff; 30 seconds by default.
        ///   - maximumRetryAfter: The longest honoured `Retry-After`; 60 seconds by default.
        public init(
            urlTemplate: String,
            cursorParameter: String = "cursor",
            limitParameter: String = "limit",
            bearerToken: String? = nil,
            itemsPath: String = "data",
            nextCursorPath: String = "next_cursor",
            fields: FieldMapping = FieldMapping(),
            timeout: Duration = .seconds(10),
            maxAttempts: Int = 4,
            initialBackoff: Duration = .milliseconds(500),
            maximumBackoff: Duration = .seconds(30),
            maximumRetryAfter: Duration = .seconds(60)
        ) {
            self.urlTemplate = urlTemplate
            self.cursorParameter = cursorParameter
            self.limitParameter = limitParameter
            self.bearerToken = bearerToken
            self.itemsPath = itemsPath
            self.nextCursorPath = nextCursorPath
            self.fields = fields
            self.timeout = timeout
            self.maxAttempts = maxAttempts
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.maximumRetryAfter = maximumRetryAfter
        }
    }

    /// Dotted paths of each membership field in a row; optional fields may be `nil` (not mapped).
    public struct FieldMapping: Sendable {
        /// The membership id (required).
        public var membershipID = "id"
        /// The member's user id; when mapped, rows of another user are rejected.
        public var userID: String? = "user_id"
        /// The organization id (required).
        public var organizationID = "organization_id"
        /// The organization name (required).
        public var organizationName = "organization_name"
        /// The plan (required).
        public var plan = "plan"
        /// The role (required).
        public var role = "role"
        /// The status (required).
        public var status = "status"
        /// The start, RFC 3339 (see `RFC3339`) or epoch seconds (required).
        public var startedAt = "started_at"
        /// The end, if any.
        public var endedAt: String? = "ended_at"
        /// The next renewal, if any.
        public var renewsAt: String? = "renews_at"
        /// The amount, as a decimal string or number.
        public var amount: String? = "amount"
        /// The ISO 4217 currency.
        public var currency: String? = "currency"
        /// Extra attribute columns: column name → path.
        public var attributes: [String: String] = [:]

        /// The default mapping (snake_case names at the top level of each row).
        public init() {}
    }
}
