import ExportCore
import Foundation

/// A `MembershipSource` over a host table or view, read in keyset pages: `WHERE user = $1 AND key >
/// $cursor ORDER BY key LIMIT n`, so a page costs one index range scan however deep the export is.
///
/// ``Mapping`` names the table and the column of each `Membership` field; every name is checked
/// (letters, digits, `_`, optionally one `schema.` qualifier) and double-quoted in the SQL. Give the
/// table an index on `(user column, key column)`. Rows are read with the host's executor, which may
/// point at a read replica.
///
/// A row that cannot become a `Membership` (a `NULL` in a required column, an amount that is not a
/// decimal) fails the page with a permanent `ExportError.Code.corruptData` naming the row's key.
public struct SQLMembershipSource: MembershipSource {
    /// Which table and columns hold the memberships.
    public struct Mapping: Hashable, Sendable {
        /// The table or view, optionally schema-qualified (`reporting.memberships`).
        public var table: String
        /// The keyset column: unique per user, compared with `>` in its own type (``keyType``).
        public var membershipID: String
        /// The SQL type of ``membershipID`` the cursor is cast to: `text` by default (`bigint`, `uuid`…).
        public var keyType: String
        /// The column of the owning user's id.
        public var userID: String
        /// The SQL type of ``userID`` the owner is cast to: `text` by default.
        public var userType: String
        /// The organisation id column.
        public var organizationID: String
        /// The organisation name column.
        public var organizationName: String
        /// The plan column.
        public var plan: String
        /// The role column.
        public var role: String
        /// The status column.
        public var status: String
        /// The start time column (`timestamptz`).
        public var startedAt: String
        /// The end time column, or `nil` when the table has none.
        public var endedAt: String?
        /// The renewal time column, or `nil`.
        public var renewsAt: String?
        /// The amount column (`numeric`), or `nil`.
        public var amount: String?
        /// The currency column, or `nil`.
        public var currency: String?
        /// Extra attributes: export column name to table column.
        public var attributes: [String: String]

        /// Creates a mapping; the defaults are the column names of `Membership`'s fields in snake case.
        ///
        /// - Parameters:
        ///   - table: The table or view; `memberships` by default.
        ///   - membershipID: The keyset column.
        ///   - keyType: The keyset column's type.
        ///   - userID: The user column.
        ///   - userType: The user column's type.
        ///   - organizationID: The organisation id column.
        ///   - organizationName: The organisation name column.
        ///   - plan: The plan column.
        ///   - role: The role column.
        ///   - status: The status column.
        ///   - startedAt: The start column.
        ///   - endedAt: The end column, if any.
        ///   - renewsAt: The renewal column, if any.
        ///   - amount: The amount column, if any.
        ///   - currency: The currency column, if any.
        ///   - attributes: Extra attribute columns by export column name.
        public init(
            table: String = "memberships", membershipID: String = "membership_id", keyType: String = "text", userID: String = "user_id",
            userType: String = "text",
            organizationID: String = "organization_id", organizationName: String = "organization_name", plan: String = "plan",
            role: String = "role", status: String = "status", startedAt: String = "started_at", endedAt: String? = "ended_at",
            renewsAt: String? = "renews_at", amount: String? = "amount", currency: String? = "currency", attributes: [String: String] = [:]
        ) {
            self.table = table
            self.membershipID = membershipID
            self.keyType = keyType
            self.userID = userID
            self.userType = userType
            self.organizationID = organizationID
            self.organizationName = organizationName
            self.plan = plan
            self.role = role
            self.status = status
            self.startedAt = startedAt
            self.endedAt = endedAt
            self.renewsAt = renewsAt
            self.amount = amount
            self.currency = currency
            self.attributes = attributes
        }
    }

    let session: SQLSession
    /// The mapping.
    public let mapping: Mapping
    private let query: String
    private let attributeNames: [String]

    /// Creates the source.
    ///
    /// - Parameters:
    ///   - executor: Where the reads run (the host's database or a replica).
    ///   - mapping: The table and its columns.
    /// - Throws: `ExportError.Code.configuration` naming a table, column or type that is not a plain
    ///   identifier.
    public init(executor: any ExportSQLExecutor, mapping: Mapping = Mapping()) throws(ExportError) {
        session = SQLSession(executor: executor)
        self.mapping = mapping
        func quoted(_ name: String, _ what: String, qualified: Bool = false) throws(ExportError) -> String {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 1 || (qualified && parts.count == 2),
                parts.allSatisfy({ SQLMembershipSource.isName($0) })
            else {
                throw ExportError(
                    .configuration, "SQLMembershipSource.Mapping.\(what) \(String(reflecting: name)) must be letters, digits and _ (a table may have one schema. prefix)")
            }
            return parts.map { "\"\($0)\"" }.joined(separator: ".")
        }
        func column(_ name: String?, _ what: String) throws(ExportError) -> String {
            guard let name else { return "NULL" }
            return try quoted(name, what) + "::text"
        }
        func time(_ name: String?, _ what: String) throws(ExportError) -> String {
            guard let name else { return "NULL" }
            return "extract(epoch FROM \(try quoted(name, what)))::text"
        }
        let table = try quoted(mapping.table, "table", qualified: true)
        let key = try quoted(mapping.membershipID, "membershipID")
        for (type, what) in [(mapping.keyType, "keyType"), (mapping.userType, "userType")] {
            guard !type.isEmpty, type.split(separator: " ").allSatisfy({ SQLMembershipSource.isName(String($0)) }) else {
                throw ExportError(.configuration, "SQLMembershipSource.Mapping.\(what) \(String(reflecting: type)) is not a type name")
            }
        }
        attributeNames = mapping.attributes.keys.sorted()
        var selected = [
            key + "::text", try column(mapping.userID, "userID"), try column(mapping.organizationID, "organizationID"),
            try column(mapping.organizationName, "organizationName"), try column(mapping.plan, "plan"), try column(mapping.role, "role"),
            try column(mapping.status, "status"), try time(mapping.startedAt, "startedAt"), try time(mapping.endedAt, "endedAt"),
            try time(mapping.renewsAt, "renewsAt"), try column(mapping.amount, "amount"), try column(mapping.currency, "currency"),
        ]
        for name in attributeNames { selected.append(try column(mapping.attributes[name], "attributes[\(name)]")) }
        query = """
            SELECT \(selected.enumerated().map { "\($0.element) AS c\($0.offset)" }.joined(separator: ", ")) FROM \(table)
            WHERE \(try quoted(mapping.userID, "userID")) = CAST($1 AS \(mapping.userType)) AND ($2::text IS NULL OR \(key) > CAST($2 AS \(mapping.keyType)))
            ORDER BY \(key) LIMIT $3::integer
            """
    }

    /// Reads one page of a user's memberships.
    ///
    /// - Parameters:
    ///   - owner: The user.
    ///   - cursor: The previous page's cursor (its last key), or `nil`.
    ///   - limit: The most rows (at least 1; at most 10,000 are read per page).
    /// - Returns: The rows and the next page's cursor.
    /// - Throws: `ExportError.Code.invalidRequest` for a limit below 1,
    ///   `ExportError.Code.corruptData` for a row that is not a membership, a retryable
    ///   `ExportError.Code.unavailable` when the database fails.
    public func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        guard limit >= 1 else { throw ExportError(.invalidRequest, "limit must be at least 1, got \(limit)") }
        let limit = min(limit, 10_000)
        let rows = try await session.run(query, [owner.rawValue, cursor?.token, String(limit + 1)])
        let page = rows.prefix(limit)
        var items: [Membership] = []
        items.reserveCapacity(page.count)
        for row in page { items.append(try membership(row)) }
        let next = rows.count > limit ? items.last.map { PageCursor($0.membershipID) } : nil
        return Page(items: items, next: next)
    }

    private func membership(_ row: ExportSQLRow) throws(ExportError) -> Membership {
        let key = row[0] ?? "NULL"
        func required(_ index: Int, _ what: String) throws(ExportError) -> String {
            guard let value = row[index] else {
                throw ExportError(.corruptData, "membership \(key) in \(mapping.table) has no \(what)", isRetryable: false)
            }
            return value
        }
        func optionalDate(_ index: Int, _ what: String) throws(ExportError) -> Date? {
            guard row[index] != nil else { return nil }
            return try SQLSession.date(epoch: row[index], "membership \(key)'s \(what)")
        }
        var amount: ExactDecimal?
        if let text = row[10] {
            guard let value = ExactDecimal(text) else {
                throw ExportError(.corruptData, "membership \(key)'s amount \(String(reflecting: text)) is not a decimal", isRetryable: false)
            }
            amount = value
        }
        var attributes: [String: String] = [:]
        for (offset, name) in attributeNames.enumerated() { attributes[name] = row[12 + offset] }
        return Membership(
            membershipID: try required(0, mapping.membershipID), userID: UserID(rawValue: try required(1, mapping.userID)),
            organizationID: try required(2, mapping.organizationID), organizationName: try required(3, mapping.organizationName),
            plan: try required(4, mapping.plan), role: try required(5, mapping.role), status: try required(6, mapping.status),
            startedAt: try SQLSession.date(epoch: try required(7, mapping.startedAt), "membership \(key)'s start"),
            endedAt: try optionalDate(8, "end"), renewsAt: try optionalDate(9, "renewal"), amount: amount, currency: row[11],
            attributes: attributes)
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 63, !(0x30...0x39).contains(first) else { return false }
        return text.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }
}
