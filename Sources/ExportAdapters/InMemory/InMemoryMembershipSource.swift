import ExportCore

/// A `MembershipSource` over memberships held in memory, paged by membership id.
///
/// Each owner's rows are kept sorted by `Membership.membershipID`; a page's cursor is its last
/// row's id, and the next page starts strictly after it, so rows added or removed between pages are
/// never repeated nor cause a skip. Rows are grouped by `Membership.userID`. Add or remove rows
/// while an export runs with ``insert(_:)`` and ``remove(membershipID:of:)``; make pages fail through
/// ``faults``.
public actor InMemoryMembershipSource: MembershipSource {
    private var rows: [UserID: [Membership]] = [:]

    /// Makes chosen operations fail (``FaultInjector/Operation/page``); see ``FaultInjector``.
    public nonisolated let faults: FaultInjector

    /// Creates a source holding `memberships`.
    ///
    /// - Parameters:
    ///   - memberships: The rows, of any owners; a later row with the same owner and id replaces an earlier one.
    ///   - faults: The fault injector to consult; a fresh one by default.
    public init(_ memberships: [Membership] = [], faults: FaultInjector = FaultInjector()) {
        self.faults = faults
        var grouped: [UserID: [String: Membership]] = [:]
        for membership in memberships { grouped[membership.userID, default: [:]][membership.membershipID] = membership }
        rows = grouped.mapValues { $0.values.sorted { $0.membershipID < $1.membershipID } }
    }

    /// Reads one page of an owner's memberships, ordered by membership id.
    ///
    /// - Parameters:
    ///   - owner: The user.
    ///   - cursor: The previous page's cursor (its last membership id), or `nil`.
    ///   - limit: The most rows (at least 1).
    /// - Returns: The rows, and a cursor when more rows follow.
    /// - Throws: `ExportError.Code.invalidRequest` for a limit below 1, or an injected error.
    public func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        try await memberships(of: owner, after: cursor, limit: limit, range: nil)
    }

    /// Reads one page of a user's memberships active within `range`, by membership id.
    ///
    /// - Parameters:
    ///   - owner: The user.
    ///   - cursor: The last membership id of the previous page, or `nil`.
    ///   - limit: The most rows (at least 1).
    ///   - range: Only memberships active within it, or `nil` for all.
    /// - Returns: The rows, and a cursor when more rows follow.
    /// - Throws: `ExportError.Code.invalidRequest` for a limit below 1, or an injected error.
    public func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int, range: ExportTimeRange?) async throws -> Page<Membership> {
        try faults.check(.page)
        guard limit >= 1 else { throw ExportError(.invalidRequest, "limit must be at least 1, got \(limit)") }
        let all = rows[owner] ?? []
        // Binary search for the first id after the cursor, then a scan of just the page (and, with a
        // range, the rows it skips): a page costs the same at row 10 and at row 10 million.
        var low = 0
        var high = all.endIndex
        if let cursor {
            while low < high {
                let middle = low + (high - low) / 2
                if all[middle].membershipID > cursor.token { high = middle } else { low = middle + 1 }
            }
        }
        var index = low
        var items: [Membership] = []
        items.reserveCapacity(min(limit, all.endIndex - index))
        while index < all.endIndex, items.count < limit {
            if range?.contains(all[index]) ?? true { items.append(all[index]) }
            index += 1
        }
        let more = all[index...].contains { range?.contains($0) ?? true }
        return Page(items: items, next: more ? items.last.map { PageCursor($0.membershipID) } : nil)
    }

    /// The number of rows an export of `owner` within `range` produces.
    ///
    /// - Parameters:
    ///   - owner: The user.
    ///   - range: The time range, or `nil`.
    /// - Returns: The count.
    public func membershipCount(of owner: UserID, range: ExportTimeRange?) async throws -> Int64? {
        Int64((rows[owner] ?? []).count { range?.contains($0) ?? true })
    }

    // MARK: Changing the rows

    /// Adds a row, or replaces the owner's row with the same id.
    ///
    /// - Parameters:
    ///   - membership: The row.
    public func insert(_ membership: Membership) {
        var list = rows[membership.userID] ?? []
        list.removeAll { $0.membershipID == membership.membershipID }
        let index = list.firstIndex { $0.membershipID > membership.membershipID } ?? list.endIndex
        list.insert(membership, at: index)
        rows[membership.userID] = list
    }

    /// Removes a row; a missing one is fine.
    ///
    /// - Parameters:
    ///   - membershipID: The row's id.
    ///   - owner: Its owner.
    public func remove(membershipID: String, of owner: UserID) {
        rows[owner]?.removeAll { $0.membershipID == membershipID }
    }

    /// Every row of an owner, in page order.
    ///
    /// - Parameters:
    ///   - owner: The owner.
    /// - Returns: The rows.
    public func all(of owner: UserID) -> [Membership] { rows[owner] ?? [] }
}
