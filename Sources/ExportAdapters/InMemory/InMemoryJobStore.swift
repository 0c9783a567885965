import ExportCore
import Foundation
import Synchronization

/// A `JobStore` kept in memory: for tests, demos and single-process hosts that can lose their jobs.
///
/// It keeps every promise of the port: idempotent create by id and by unique key (the key is released
/// when its job becomes terminal), compare-and-swap updates by version, newest-first owner listings
/// with an opaque cursor, and expiry. Failures can be injected through ``faults``; what is stored can be
/// inspected with ``allJobs`` and ``job(_:)``.
///
/// A class whose state sits behind one lock, not an actor: every call is a short critical section,
/// so dozens of concurrent exports share it without hopping to an actor's executor and back.
public final class InMemoryJobStore: JobStore, Sendable {
    private struct State {
        var jobs = JobTable()
        /// The unique keys held by non-terminal jobs.
        var activeKeys: [String: JobID] = [:]
        /// Each owner's job ids, so a listing reads that owner's jobs, not every job (an owner never
        /// changes: ``update(_:)`` keeps the stored one).
        var jobsByOwner: [UserID: Set<JobID>] = [:]
    }

    private let state = Mutex(State())

    /// Makes chosen operations fail; see ``FaultInjector``.
    public let faults: FaultInjector

    /// Creates an empty store.
    ///
    /// - Parameters:
    ///   - faults: The fault injector to consult; a fresh one by default.
    public init(faults: FaultInjector = FaultInjector()) {
        self.faults = faults
    }

    /// Stores a new job, or returns the job that already holds its id or unique key.
    ///
    /// - Parameters:
    ///   - job: The job; its version is ignored and stored as 1.
    /// - Returns: `.created` with the stored job or `.existing` with the job that won.
    /// - Throws: An injected `ExportError`.
    public func create(_ job: ExportJob) async throws -> JobCreation {
        try faults.check(.create)
        return state.withLock { state in
            if let stored = state.jobs[job.id] { return .existing(stored) }
            if let key = job.uniqueKey, let holderID = state.activeKeys[key], let holder = state.jobs[holderID] {
                return .existing(holder)
            }
            var stored = job
            stored.version = 1
            state.jobs[stored.id] = stored
            state.jobsByOwner[stored.owner, default: []].insert(stored.id)
            if let key = stored.uniqueKey, !stored.state.isTerminal { state.activeKeys[key] = stored.id }
            return .created(stored)
        }
    }

    /// Reads a job.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    /// - Returns: The job, or `nil`.
    /// - Throws: An injected `ExportError`.
    public func get(_ id: JobID) async throws -> ExportJob? {
        try faults.check(.get)
        return state.withLock { $0.jobs[id] }
    }

    /// Replaces a job if its stored version equals `job.version`.
    ///
    /// The owner, id and creation time of the stored job are kept whatever `job` says.
    ///
    /// - Parameters:
    ///   - job: The new content, carrying the version that was read.
    /// - Returns: The stored job with its version incremented.
    /// - Throws: `ExportError.Code.notFound` for a missing job, `ExportError.Code.versionConflict`
    ///   for a stale version, or an injected `ExportError`.
    public func update(_ job: ExportJob) async throws -> ExportJob {
        try faults.check(.update)
        return try state.withLock { state throws(ExportError) in
            guard let stored = state.jobs[job.id] else {
                throw ExportError(.notFound, "no job \(job.id)")
            }
            guard stored.version == job.version else {
                throw ExportError(
                    .versionConflict,
                    "job \(job.id) is at version \(stored.version), the update was based on version \(job.version)"
                )
            }
            var updated = job
            updated.owner = stored.owner
            updated.createdAt = stored.createdAt
            updated.version = stored.version + 1
            if let oldKey = stored.uniqueKey, state.activeKeys[oldKey] == stored.id,
                updated.state.isTerminal || updated.uniqueKey != oldKey
            {
                state.activeKeys[oldKey] = nil
            }
            if let newKey = updated.uniqueKey, !updated.state.isTerminal, state.activeKeys[newKey] == nil {
                state.activeKeys[newKey] = updated.id
            }
            state.jobs[updated.id] = updated
            return updated
        }
    }

    /// Lists one owner's jobs, newest first (by creation time, then id, both descending).
    ///
    /// - Parameters:
    ///   - owner: The owner.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most jobs to return (at least 1).
    /// - Returns: The page.
    /// - Throws: `ExportError.Code.invalidRequest` for a bad limit or cursor, or an injected error.
    public func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        try faults.check(.list)
        guard limit >= 1 else { throw ExportError(.invalidRequest, "limit must be at least 1, got \(limit)") }
        let sorted = state.withLock { state in (state.jobsByOwner[owner] ?? []).compactMap { state.jobs[$0] } }.sorted(by: Self.newestFirst)
        var start = sorted.startIndex
        if let cursor {
            let position = try Self.position(of: cursor)
            start = sorted.firstIndex { Self.isAfter($0, position) } ?? sorted.endIndex
        }
        let end = limit >= sorted.endIndex - start ? sorted.endIndex : start + limit  // no overflow for a huge limit
        let items = Array(sorted[start..<end])
        let next = end < sorted.endIndex ? items.last.map(Self.cursor(for:)) : nil
        return Page(items: items, next: next)
    }

    /// Lists jobs across owners, oldest first (by creation time, then id), for operators.
    ///
    /// - Parameters:
    ///   - filter: Which states and ages.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most jobs to return (at least 1).
    /// - Returns: The page.
    /// - Throws: `ExportError.Code.invalidRequest` for a bad limit or cursor, or an injected error.
    public func jobs(matching filter: JobFilter, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        try faults.check(.listAll)
        return try JobPosition.page(of: state.withLock { Array($0.jobs.values) }, matching: filter, after: cursor, limit: limit)
    }

    /// Finds jobs in `states` last updated before `updatedBefore`.
    ///
    /// - Parameters:
    ///   - states: The states to look for.
    ///   - updatedBefore: The cut-off.
    ///   - limit: The most jobs to return.
    /// - Returns: The oldest matching jobs first.
    /// - Throws: An injected `ExportError`.
    public func stale(in states: Set<JobState>, updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        try faults.check(.stale)
        let matching = state.withLock { $0.jobs.filter { states.contains($0.state) && $0.updatedAt < updatedBefore } }
        return Array(matching.sorted { ($0.updatedAt, $0.id) < ($1.updatedAt, $1.id) }.prefix(max(0, limit)))
    }

    /// Finds ended jobs whose notification is pending, last updated before `updatedBefore`.
    ///
    /// - Parameters:
    ///   - updatedBefore: Only jobs last updated before this.
    ///   - limit: The most jobs to return.
    /// - Returns: The oldest such jobs first.
    /// - Throws: An injected `ExportError`.
    public func unnotified(updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        try faults.check(.unnotified)
        let matching = state.withLock { $0.jobs.filter { $0.notificationPending && $0.updatedAt < updatedBefore } }
        return Array(matching.sorted { ($0.updatedAt, $0.id) < ($1.updatedAt, $1.id) }.prefix(max(0, limit)))
    }

    /// Finds jobs whose expiry is at or before `now`, earliest expiry first.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - limit: The most jobs to return.
    /// - Returns: The expired jobs, unchanged.
    /// - Throws: An injected `ExportError`.
    public func expired(now: Date, limit: Int) async throws -> [ExportJob] {
        try faults.check(.expired)
        return Array(
            state.withLock { $0.jobs.filter { job in job.expiresAt.map { $0 <= now } ?? false } }
                .sorted { ($0.expiresAt ?? now, $0.id) < ($1.expiresAt ?? now, $1.id) }
                .prefix(max(0, limit)))
    }

    /// Deletes a job if its stored version is the one given; a missing job is already deleted.
    ///
    /// - Parameters:
    ///   - job: The job as read.
    /// - Throws: `ExportError.Code.versionConflict` for a stale version, or an injected `ExportError`.
    public func delete(_ job: ExportJob) async throws {
        try faults.check(.deleteJob)
        try state.withLock { state throws(ExportError) in
            guard let stored = state.jobs[job.id] else { return }
            guard stored.version == job.version else {
                throw ExportError(.versionConflict, "job \(job.id) is at version \(stored.version), not \(job.version)")
            }
            state.jobs[job.id] = nil
            state.jobsByOwner[stored.owner]?.remove(stored.id)
            if state.jobsByOwner[stored.owner]?.isEmpty == true { state.jobsByOwner[stored.owner] = nil }
            if let key = stored.uniqueKey, state.activeKeys[key] == stored.id { state.activeKeys[key] = nil }
        }
    }

    // MARK: Inspection
    //
    // Asynchronous, as they were when the store was an actor, so callers' `await`s stay as they are.

    /// Every stored job, oldest first: for assertions in tests.
    public var allJobs: [ExportJob] {
        get async { state.withLock { Array($0.jobs.values) }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }

    /// The stored job with this id, without consulting ``faults``.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    /// - Returns: The job, or `nil`.
    public func job(_ id: JobID) async -> ExportJob? { state.withLock { $0.jobs[id] } }

    /// The number of stored jobs.
    public var count: Int {
        get async { state.withLock { $0.jobs.count } }
    }

    /// Removes every job, as if the store were new (the fault injector is left alone).
    public func removeAll() async {
        state.withLock { $0 = State() }
    }

    // MARK: Cursor

    private static func newestFirst(_ lhs: ExportJob, _ rhs: ExportJob) -> Bool {
        if lhs.createdAt != rhs.createdAt { return lhs.createdAt > rhs.createdAt }
        return lhs.id > rhs.id
    }

    private static func isAfter(_ job: ExportJob, _ position: (createdAt: Date, id: String)) -> Bool {
        if job.createdAt != position.createdAt { return job.createdAt < position.createdAt }
        return job.id.rawValue < position.id
    }

    private static func cursor(for job: ExportJob) -> PageCursor {
        PageCursor("\(job.createdAt.timeIntervalSinceReferenceDate.bitPattern).\(job.id.rawValue)")
    }

    private static func position(of cursor: PageCursor) throws(ExportError) -> (createdAt: Date, id: String) {
        let parts = cursor.token.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let bits = UInt64(parts[0]) else {
            throw ExportError(.invalidRequest, "malformed job list cursor")
        }
        return (Date(timeIntervalSinceReferenceDate: Double(bitPattern: bits)), String(parts[1]))
    }
}

/// The stored jobs by id, each in a box of its own: the hash table's values are one word, so growing
/// it moves words, not whole jobs (an `ExportJob` is several hundred bytes), and an update replaces
/// the job in its box without touching the table.
///
/// The boxes are shared by copies of a table: it lives only in the store's locked state and is never
/// copied out of it (reads copy the jobs out).
private struct JobTable {
    private final class Box {
        var job: ExportJob
        init(_ job: ExportJob) { self.job = job }
    }

    private var boxes: [JobID: Box] = [:]

    subscript(id: JobID) -> ExportJob? {
        get { boxes[id]?.job }
        set {
            if let newValue {
                if let box = boxes[id] { box.job = newValue } else { boxes[id] = Box(newValue) }
            } else {
                boxes[id] = nil
            }
        }
    }

    /// Every job, in no particular order.
    var values: [ExportJob] { boxes.values.map(\.job) }

    /// The jobs that `isIncluded` accepts, in no particular order (only those are copied).
    func filter(_ isIncluded: (ExportJob) -> Bool) -> [ExportJob] {
        boxes.values.compactMap { isIncluded($0.job) ? $0.job : nil }
    }

    var count: Int { boxes.count }
}
