import Foundation

/// Durable storage of export jobs with optimistic concurrency.
///
/// ## Implementation requirements
/// - **Atomic records.** A reader sees a job as it was after some complete update, never a mix.
/// - **Create is idempotent.** ``create(_:)`` stores a job whose ``ExportJob/version`` becomes 1. If a
///   job with the same id exists, it returns `.existing` with the stored job and changes nothing.
///   If the job has a ``ExportJob/uniqueKey`` held by another non-terminal job, it returns `.existing`
///   with that job instead: at most one non-terminal job holds a key at any moment, even when
///   several processes create at once. The key is released when its job becomes terminal.
/// - **Compare-and-swap.** ``update(_:)`` stores the job only if the stored version equals the given
///   job's ``ExportJob/version``, and returns it with the version incremented by one. Otherwise it
///   throws ``ExportError/Code/versionConflict`` (retryable: re-read and re-apply) and changes nothing.
///   A missing job throws ``ExportError/Code/notFound``. Owner, id and creation time never change.
/// - **Owner listing** is newest first (by ``ExportJob/createdAt``, then id) with an opaque cursor.
/// - **Expiry** lists jobs whose ``ExportJob/expiresAt`` has passed, and only those, without changing
///   them; ``delete(_:)`` is a compare-and-swap like ``update(_:)``.
/// - **Listing across owners** (``jobs(matching:after:limit:)``, for operators) is oldest first (by
///   ``ExportJob/createdAt``, then id), returns only jobs the ``JobFilter`` matches, and pages with an
///   opaque cursor that neither repeats nor skips a job that existed throughout. It is optional: the
///   default implementation throws ``ExportError/Code/unsupported``, so a store that cannot do it says
///   so rather than answering with nothing.
/// - Corrupt records are reported as ``ExportError/Code/corruptData`` from ``get(_:)`` for that job
///   and skipped (not fatal) by the listings.
public protocol JobStore: Sendable {
    /// Stores a new job, or returns the job that already holds its id or unique key.
    ///
    /// - Parameters:
    ///   - job: The job, with version 0.
    /// - Returns: `.created` with the stored job (version 1) or `.existing` with the job that won.
    /// - Throws: ``ExportError`` when storage fails.
    func create(_ job: ExportJob) async throws -> JobCreation

    /// Reads a job.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    /// - Returns: The job, or `nil` when there is none.
    /// - Throws: ``ExportError`` when storage fails or the record is corrupt.
    func get(_ id: JobID) async throws -> ExportJob?

    /// Replaces a job if nobody changed it since it was read.
    ///
    /// - Parameters:
    ///   - job: The new content; its ``ExportJob/version`` is the version that was read.
    /// - Returns: The stored job with its new version.
    /// - Throws: ``ExportError/Code/versionConflict`` when the stored version differs,
    ///   ``ExportError/Code/notFound`` when the job is gone.
    func update(_ job: ExportJob) async throws -> ExportJob

    /// Lists one owner's jobs, newest first.
    ///
    /// - Parameters:
    ///   - owner: The owner.
    ///   - cursor: Where the previous page ended, or `nil` for the first page.
    ///   - limit: The most jobs to return (at least 1).
    /// - Returns: The page and the cursor of the next page, if any.
    /// - Throws: ``ExportError`` when storage fails.
    func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob>

    /// Lists jobs across every owner, oldest first, for an operator (``ExportAdministration``).
    ///
    /// - Parameters:
    ///   - filter: Which states and ages to return.
    ///   - cursor: Where the previous page ended, or `nil` for the first page.
    ///   - limit: The most jobs to return (at least 1).
    /// - Returns: The page and the cursor of the next page, if any.
    /// - Throws: ``ExportError/Code/invalidRequest`` for a cursor the store did not make;
    ///   ``ExportError/Code/unsupported`` from a store that cannot list across owners; ``ExportError``
    ///   when storage fails.
    func jobs(matching filter: JobFilter, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob>

    /// Finds jobs in the given states that have not been updated since `updatedBefore`, for the reconciler.
    ///
    /// - Parameters:
    ///   - states: The states to look for.
    ///   - updatedBefore: Only jobs whose ``ExportJob/updatedAt`` is earlier than this.
    ///   - limit: The most jobs to return.
    /// - Returns: Matching jobs, in no particular order.
    /// - Throws: ``ExportError`` when storage fails.
    func stale(in states: Set<JobState>, updatedBefore: Date, limit: Int) async throws -> [ExportJob]

    /// Finds jobs that ended and whose notification is not confirmed (``ExportJob/notificationPending``:
    /// succeeded or failed, not notified), last updated before `updatedBefore`, for the reconciler.
    ///
    /// - Parameters:
    ///   - updatedBefore: Only jobs whose ``ExportJob/updatedAt`` is earlier than this.
    ///   - limit: The most jobs to return.
    /// - Returns: Matching jobs, in no particular order.
    /// - Throws: ``ExportError`` when storage fails.
    func unnotified(updatedBefore: Date, limit: Int) async throws -> [ExportJob]

    /// Finds jobs whose ``ExportJob/expiresAt`` is at or before `now`, without changing them: the
    /// reconciler deletes their files first and only then changes or deletes the record, so a crash at
    /// any instant leaves a record that still names every file.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - limit: The most jobs to return.
    /// - Returns: Expired jobs, in no particular order.
    /// - Throws: ``ExportError`` when storage fails.
    func expired(now: Date, limit: Int) async throws -> [ExportJob]

    /// Deletes a job if nobody changed it since it was read (compare-and-swap on its version), and
    /// releases its unique key. Deleting a job that is already gone succeeds.
    ///
    /// - Parameters:
    ///   - job: The job as read; its ``ExportJob/version`` is the version that was read.
    /// - Throws: ``ExportError/Code/versionConflict`` when the stored version differs.
    func delete(_ job: ExportJob) async throws
}

/// A job store that can record a new job and queue its message in one step, when the queue keeps its
/// messages beside the store's jobs (`PostgresJobStore` and `PostgresQueue` of one `PostgresBackend`:
/// one statement, so one round trip instead of two, and never a job recorded without its message).
///
/// ``ExportService`` asks for this step first and falls back to ``JobStore/create(_:)`` followed by
/// ``Queue/enqueue(_:delay:)`` when the store answers `nil`.
public protocol EnqueueingJobStore: JobStore {
    /// Records `job` and queues `message` on `queue` in one step, if this store can for that queue.
    ///
    /// - Parameters:
    ///   - job: The job, with version 0.
    ///   - message: Its message, visible at once.
    ///   - queue: The queue the caller would enqueue on.
    /// - Returns: `nil` when this store cannot enqueue on `queue` (nothing was done: create and
    ///   enqueue separately); else as ``JobStore/create(_:)``: `.created` when the job was recorded and
    ///   its message queued, `.existing` (nothing queued) when another job holds its id or unique key.
    /// - Throws: ``ExportError`` when storage fails; then neither the job nor the message was stored.
    func create(_ job: ExportJob, enqueueing message: QueueMessage, on queue: any Queue) async throws -> JobCreation?
}

/// A job store that can store a job's change and acknowledge its queue message in one step, when the
/// queue keeps its messages beside the store's jobs (`PostgresJobStore` and `PostgresQueue` of one
/// `PostgresBackend`: one statement instead of two, and never one without the other).
///
/// The worker asks for this step when it records that a job's notification was sent, the last step
/// of a job's handling, and falls back to ``Queue/acknowledge(_:)`` followed by ``JobStore/update(_:)``
/// when the store answers `nil`.
public protocol AcknowledgingJobStore: JobStore {
    /// Stores `job`, as ``JobStore/update(_:)`` does (compare-and-swap on its version), and
    /// acknowledges `receipt` on `queue`, both or neither, if this store can for that queue.
    ///
    /// - Parameters:
    ///   - job: The changed job; its ``ExportJob/version`` is the version that was read.
    ///   - receipt: The lease of the message to acknowledge.
    ///   - queue: The queue the caller would acknowledge on.
    /// - Returns: `nil` when this store cannot acknowledge on `queue` (nothing was done: acknowledge
    ///   and update separately); else the stored job, as ``JobStore/update(_:)`` returns it, and the
    ///   message is gone.
    /// - Throws: ``ExportError/Code/versionConflict`` when the stored version differs,
    ///   ``ExportError/Code/notFound`` when the job does not exist, ``ExportError/Code/leaseLost`` when
    ///   the lease is no longer held; in each case nothing was done.
    func update(_ job: ExportJob, acknowledging receipt: LeaseReceipt, on queue: any Queue) async throws -> ExportJob?
}

/// The outcome of ``JobStore/create(_:)``.
public enum JobCreation: Hashable, Sendable {
    /// The job was stored.
    case created(ExportJob)
    /// A job with the same id, or an active job with the same unique key, already exists.
    case existing(ExportJob)

    /// The stored job, whichever case.
    public var job: ExportJob {
        switch self {
        case .created(let job), .existing(let job): job
        }
    }
}

/// An opaque position in a paginated listing.
public struct PageCursor: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The adapter-defined token.
    public let token: String

    /// Wraps a token.
    ///
    /// - Parameters:
    ///   - token: The adapter-defined token.
    public init(_ token: String) { self.token = token }

    /// The token.
    public var description: String { token }
}

/// One page of a listing.
public struct Page<Element: Sendable>: Sendable {
    /// The items of this page.
    public var items: [Element]
    /// The cursor of the next page, or `nil` on the last page.
    public var next: PageCursor?

    /// Creates a page.
    ///
    /// - Parameters:
    ///   - items: The items.
    ///   - next: The cursor of the next page, if any.
    public init(items: [Element], next: PageCursor?) {
        self.items = items
        self.next = next
    }
}

extension Page: Equatable where Element: Equatable {}

extension JobStore {
    /// The default for stores that cannot list across owners: throws ``ExportError/Code/unsupported``.
    ///
    /// - Parameters:
    ///   - filter: Ignored.
    ///   - cursor: Ignored.
    ///   - limit: Ignored.
    /// - Returns: Never.
    /// - Throws: ``ExportError/Code/unsupported``, always.
    public func jobs(matching filter: JobFilter, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        throw ExportError(.unsupported, "this job store (\(type(of: self))) cannot list jobs across owners")
    }

    /// Reads a job, applies `change` and stores it by compare-and-swap; on a version conflict, reads the
    /// fresh job and applies `change` again, up to `attempts` times. The one compare-and-swap loop of the
    /// library: every read-modify-write of a job goes through it.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    ///   - attempts: How many conflicts to ride out before giving up; 8 by default.
    ///   - change: Edits the job in place and returns whether there is anything to store (`false` leaves
    ///     the job as it is and returns it). It may throw to stop, for example when the job is no longer
    ///     the caller's to change.
    /// - Returns: The stored job (or the unchanged one when `change` returned `false`), or `nil` when
    ///   there is no such job.
    /// - Throws: What `change` throws; the store's errors; ``ExportError/Code/versionConflict`` when the
    ///   job kept changing for every attempt.
    @discardableResult
    public func modify(
        _ id: JobID, attempts: Int = 8, _ change: (inout ExportJob) throws(ExportError) -> Bool
    ) async throws -> ExportJob? {
        guard let job = try await get(id) else { return nil }
        return try await modify(startingFrom: job, attempts: attempts, change)
    }

    /// Like ``modify(_:attempts:_:)``, starting from a copy of the job the caller already holds (the job as
    /// it last stored it), so the usual case costs one update and no read. A copy that is no longer
    /// current fails the compare-and-swap and the fresh job is read, as a conflict would be.
    ///
    /// - Parameters:
    ///   - job: The caller's copy of the job.
    ///   - attempts: How many conflicts to ride out before giving up; 8 by default.
    ///   - change: As for ``modify(_:attempts:_:)``.
    /// - Returns: The stored job (or the unchanged one when `change` returned `false`), or `nil` when
    ///   the job is gone.
    /// - Throws: What `change` throws; the store's errors; ``ExportError/Code/versionConflict`` when the
    ///   job kept changing for every attempt.
    @discardableResult
    public func modify(
        startingFrom job: ExportJob, attempts: Int = 8, _ change: (inout ExportJob) throws(ExportError) -> Bool
    ) async throws -> ExportJob? {
        try await modify(startingFrom: job, attempts: attempts, storing: { try await update($0) }, change)
    }

    /// ``modify(startingFrom:attempts:_:)`` with the write made by `storing` (a compare-and-swap that
    /// throws ``ExportError/Code/versionConflict`` or ``ExportError/Code/notFound`` as
    /// ``JobStore/update(_:)`` does), for a write that does more in the same step.
    @discardableResult
    func modify(
        startingFrom job: ExportJob, attempts: Int, storing: (ExportJob) async throws -> ExportJob,
        _ change: (inout ExportJob) throws(ExportError) -> Bool
    ) async throws -> ExportJob? {
        var current: ExportJob? = job
        for attempt in 0..<max(1, attempts) {
            if attempt > 0 { current = try await get(job.id) }
            guard var candidate = current else { return nil }
            guard try change(&candidate) else { return candidate }
            do {
                return try await storing(candidate)
            } catch let error as ExportError where error.code == .versionConflict || error.code == .notFound {
                // Somebody moved the job on (or deleted it) meanwhile: decide again on the fresh state.
                continue
            }
        }
        throw ExportError(.versionConflict, "job \(job.id) kept changing; try again")
    }
}
