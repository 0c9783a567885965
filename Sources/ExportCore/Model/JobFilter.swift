import Foundation

/// Which jobs an operator's listing across owners returns (``JobStore/jobs(matching:after:limit:)``).
public struct JobFilter: Hashable, Sendable {
    /// Only jobs in one of these states, or `nil` for every state.
    public var states: Set<JobState>?
    /// Only jobs created before this moment (older than it), or `nil` for any age.
    public var createdBefore: Date?

    /// Creates a filter; with no arguments it matches every job.
    ///
    /// - Parameters:
    ///   - states: The states to return, or `nil` for all.
    ///   - createdBefore: Only jobs created before this, or `nil`.
    public init(states: Set<JobState>? = nil, createdBefore: Date? = nil) {
        self.states = states
        self.createdBefore = createdBefore
    }

    /// Whether a job passes the filter.
    ///
    /// - Parameters:
    ///   - job: The job.
    /// - Returns: `true` when its state and age match.
    public func matches(_ job: ExportJob) -> Bool {
        if let states, !states.contains(job.state) { return false }
        if let createdBefore, job.createdAt >= createdBefore { return false }
        return true
    }
}

/// The position of a job in the oldest-first order of ``JobStore/jobs(matching:after:limit:)``, and
/// the cursor format the library's adapters use for it: creation time, then id.
public struct JobPosition: Hashable, Sendable, Comparable {
    /// The job's creation time.
    public var createdAt: Date
    /// The job's id.
    public var id: String

    /// The position of a job.
    ///
    /// - Parameters:
    ///   - job: The job.
    public init(_ job: ExportJob) {
        createdAt = job.createdAt
        id = job.id.rawValue
    }

    /// Reads a cursor made by ``cursor``.
    ///
    /// - Parameters:
    ///   - cursor: The cursor.
    /// - Throws: ``ExportError/Code/invalidRequest`` for a cursor not made by ``cursor``.
    public init(_ cursor: PageCursor) throws(ExportError) {
        let parts = cursor.token.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let bits = UInt64(parts[0]), !parts[1].isEmpty else {
            throw ExportError(.invalidRequest, "malformed job list cursor")
        }
        createdAt = Date(timeIntervalSinceReferenceDate: Double(bitPattern: bits))
        id = String(parts[1])
    }

    /// The cursor of the page that continues after this position.
    public var cursor: PageCursor {
        PageCursor("\(createdAt.timeIntervalSinceReferenceDate.bitPattern).\(id)")
    }

    /// Oldest first, then by id.
    ///
    /// - Parameters:
    ///   - lhs: A position.
    ///   - rhs: Another position.
    /// - Returns: Whether `lhs` comes first.
    public static func < (lhs: JobPosition, rhs: JobPosition) -> Bool {
        lhs.createdAt != rhs.createdAt ? lhs.createdAt < rhs.createdAt : lhs.id < rhs.id
    }

    /// One oldest-first page of `jobs` (in any order) that match `filter`, after `cursor`: the whole of
    /// the listing for an adapter that reads candidates itself (a scan).
    ///
    /// - Parameters:
    ///   - jobs: The candidate jobs.
    ///   - filter: The filter.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most jobs (at least 1).
    /// - Returns: The page.
    /// - Throws: ``ExportError/Code/invalidRequest`` for a bad cursor or limit.
    public static func page(
        of jobs: some Sequence<ExportJob>, matching filter: JobFilter, after cursor: PageCursor?, limit: Int
    ) throws(ExportError) -> Page<ExportJob> {
        guard limit >= 1 else { throw ExportError(.invalidRequest, "limit must be at least 1, got \(limit)") }
        let start = try cursor.map { cursor throws(ExportError) in try JobPosition(cursor) }
        let sorted = jobs.filter { job in filter.matches(job) && start.map { JobPosition(job) > $0 } ?? true }
            .sorted { JobPosition($0) < JobPosition($1) }
        let items = Array(sorted.prefix(limit))
        let next = sorted.count > items.count ? items.last.map { JobPosition($0).cursor } : nil
        return Page(items: items, next: next)
    }
}
