/// Where a user's memberships come from: the host's database, API or file, read in keyset pages.
///
/// ## Implementation requirements
/// - **Keyset paging.** Rows come in a stable order (for example by membership id). The cursor of a
///   page designates its last row; the next page starts strictly after it, so rows inserted or
///   deleted meanwhile never cause a row to be skipped or repeated within one export.
/// - **Bounded pages.** At most `limit` rows per page; a page may hold fewer. ``Page/next`` is `nil`
///   exactly on the last page.
/// - **Scoped.** Only the memberships of `owner`; never another user's.
/// - Failures throw ``ExportError`` with ``ExportError/isRetryable`` set right (a timed-out database
///   is retryable, a malformed row is not).
public protocol MembershipSource: Sendable {
    /// Reads one page of a user's memberships.
    ///
    /// - Parameters:
    ///   - owner: The user whose memberships to read.
    ///   - cursor: The cursor of the previous page, or `nil` for the first.
    ///   - limit: The most rows to return (at least 1).
    /// - Returns: The rows and the cursor of the next page.
    /// - Throws: ``ExportError`` when the source fails.
    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership>

    /// Reads one page of a user's memberships active within a time range, so the host's database
    /// filters at the source. Defaults to the unfiltered read when `range` is `nil`, and to
    /// ``ExportError/Code/rangeNotSupported`` otherwise: a source that cannot filter says so.
    ///
    /// - Parameters:
    ///   - owner: The user whose memberships to read.
    ///   - cursor: The cursor of the previous page, or `nil` for the first.
    ///   - limit: The most rows to return (at least 1).
    ///   - range: Only memberships active within it (``ExportTimeRange/contains(_:)``), or `nil` for all.
    /// - Returns: The rows and the cursor of the next page.
    /// - Throws: ``ExportError/Code/rangeNotSupported`` (permanent) from a source that cannot filter.
    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int, range: ExportTimeRange?) async throws -> Page<Membership>

    /// How many rows an export of `owner` (within `range`) will produce, if the source can tell
    /// cheaply; `nil` (the default) when it cannot. Lets status show a percentage and an ETA.
    ///
    /// - Parameters:
    ///   - owner: The user.
    ///   - range: The time range, or `nil`.
    /// - Returns: The count, or `nil`.
    /// - Throws: The source's error (the export then goes on without a count).
    func membershipCount(of owner: UserID, range: ExportTimeRange?) async throws -> Int64?
}

extension MembershipSource {
    /// The unfiltered read for `nil`; ``ExportError/Code/rangeNotSupported`` for a range.
    ///
    /// - Parameters:
    ///   - owner: The user.
    ///   - cursor: The previous page's cursor.
    ///   - limit: The most rows.
    ///   - range: The time range.
    /// - Returns: The page.
    /// - Throws: ``ExportError/Code/rangeNotSupported`` for a range.
    public func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int, range: ExportTimeRange?) async throws -> Page<Membership> {
        guard let range else { return try await memberships(of: owner, after: cursor, limit: limit) }
        throw ExportError(.rangeNotSupported, "this membership source cannot filter by a time range (\(range))", isRetryable: false)
    }

    /// No count: `nil`.
    ///
    /// - Parameters:
    ///   - owner: The user.
    ///   - range: The time range.
    /// - Returns: `nil`.
    public func membershipCount(of owner: UserID, range: ExportTimeRange?) async throws -> Int64? { nil }
}
