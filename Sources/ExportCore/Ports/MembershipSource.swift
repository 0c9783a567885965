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
}
