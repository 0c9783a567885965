import Foundation

/// Periodic repair: queues again the jobs nobody is working on, and deletes what has expired.
///
/// - A job **queued** (or due for retry) but untouched for ``Configuration/requeueAfter`` was recorded
///   but never queued (the process died between the two, or the queue was down), or its message was
///   lost: it is queued again.
/// - A job **running** whose lease ran out more than ``Configuration/requeueAfter`` ago lost its worker
///   and its message: it is queued again, and the next worker takes it over.
/// - Expiry has two stages, so the e-mailed link's route can answer "expired" (410) rather than "not
///   found" for as long as someone may click it: a job past its ``ExportJob/expiresAt`` loses its files
///   and is kept as a tombstone (``ExportJob/expiredAt`` set, result metadata kept) for
///   ``ExportSettings/expiredRecordRetention``; only then is the record deleted.
/// - Blob writes abandoned by crashed workers are aborted.
///
/// Requeueing is always safe: the worker's claim turns a duplicate message into a no-op.
public struct Reconciler: Sendable {
    /// When the reconciler acts.
    public struct Configuration: Sendable {
        /// How long a job may sit untouched before it is queued again.
        public var requeueAfter: Duration
        /// How old an unfinished blob write must be before it is aborted; longer than any export.
        public var abandonedWriteAge: Duration
        /// The most jobs handled per kind of repair in one pass.
        public var batchSize: Int
        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - requeueAfter: How long a job may sit untouched; 10 minutes by default.
        ///   - abandonedWriteAge: The age of an abandoned write; 24 hours by default.
        ///   - batchSize: Jobs per repair per pass; 100 by default.
        public init(
            requeueAfter: Duration = .seconds(600),
            abandonedWriteAge: Duration = .seconds(24 * 3600),
            batchSize: Int = 100
        ) {
            self.requeueAfter = requeueAfter
            self.abandonedWriteAge = abandonedWriteAge
            self.batchSize = batchSize
        }

        /// Checks that the configuration can work.
        ///
        /// - Throws: ``ExportError/Code/configuration`` naming the setting to change.
        public func validate() throws(ExportError) {
            guard batchSize >= 1 else { throw ExportError(.configuration, "configuration.batchSize must be at least 1, not \(batchSize)") }
            guard requeueAfter > .zero, abandonedWriteAge > .zero else {
                throw ExportError(.configuration, "configuration.requeueAfter and abandonedWriteAge must be positive")
            }
        }
    }

    /// What one pass did.
    public struct Report: Hashable, Sendable {
        /// Jobs queued again.
        public var requeued: [JobID] = []
        /// Jobs that expired in this pass: files deleted, record kept as a tombstone.
        public var expired: [JobID] = []
        /// Expired jobs whose record was deleted after ``ExportSettings/expiredRecordRetention``.
        public var purged: [JobID] = []
        /// Abandoned blob writes aborted.
        public var abortedWrites = 0
    }

    private let ports: ExportPorts
    private var jobStore: any JobStore { ports.jobStore }
    private var queue: any Queue { ports.queue }
    private var blobStore: any BlobStore { ports.blobStore }
    private var clock: any ExportClock { ports.clock }
    private var observer: any ExportObserver { ports.observer }
    private var settings: ExportSettings { ports.settings }
    /// The configuration.
    public let configuration: Configuration

    /// Creates a reconciler.
    ///
    /// - Parameters:
    ///   - ports: The backend's ports and the shared settings (retention, key prefix).
    ///   - configuration: When to act.
    /// - Throws: ``ExportError/Code/configuration`` when the configuration or the settings cannot work.
    public init(ports: ExportPorts, configuration: Configuration = Configuration()) throws(ExportError) {
        try configuration.validate()
        try ports.settings.validate(against: ports.blobStore)
        self.ports = ports
        self.configuration = configuration
    }

    /// Runs one pass.
    ///
    /// - Returns: What it did.
    /// - Throws: A port's error. Requeueing stops at the first one (the next pass resumes); expiry goes
    ///   on with the rest of its batch and the first error is thrown at the end.
    @discardableResult
    public func reconcile() async throws -> Report {
        var report = Report()
        let now = clock.now()
        let threshold = now.adding(.zero - configuration.requeueAfter)
        let candidates = try await jobStore.stale(
            in: [.queued, .retryScheduled, .running], updatedBefore: threshold, limit: configuration.batchSize)
        for job in candidates where needsRequeue(job, threshold: threshold) {
            var touched = job
            touched.updatedAt = now
            do {
                _ = try await jobStore.update(touched)  // so the next pass does not queue it again at once
            } catch let error as ExportError where error.code == .versionConflict {
                continue  // somebody is working on it after all
            }
            try await queue.enqueue(QueueMessage(jobID: job.id))
            observer.observe(.requeued(job.id, state: job.state))
            report.requeued.append(job.id)
        }
        // The store deletes the expired records; a first-stage one comes back at once as a tombstone
        // (the listing port has no "expired but not deleted" query, and create is idempotent by id).
        // Each job is handled on its own: the store has already deleted the whole batch, so an error on
        // one must not leave the others' files without any record pointing at them.
        var firstError: (any Error)?
        for job in try await jobStore.deleteExpired(now: now, limit: configuration.batchSize) {
            do {
                try await expire(job, now: now, report: &report)
            } catch {
                firstError = firstError ?? error
            }
        }
        report.abortedWrites = try await blobStore.abortIncompleteWrites(startedBefore: now.adding(.zero - configuration.abandonedWriteAge))
        if let firstError { throw firstError }
        return report
    }

    /// The second life of a deleted record: a first-stage one is stored again as a tombstone (so its
    /// owner hears 410, and a later purge still knows its files), then its files are deleted; a
    /// tombstone's files are deleted once more, in case a crash stopped the first stage. A tombstone
    /// that cannot be stored does not keep the files: they are deleted all the same.
    private func expire(_ job: ExportJob, now: Date, report: inout Report) async throws {
        guard job.expiredAt == nil else {
            try await deleteFiles(of: job)
            report.purged.append(job.id)
            observer.observe(.purged(job.id))
            return
        }
        var tombstone = job
        tombstone.version = 0
        tombstone.uniqueKey = nil
        tombstone.expiredAt = job.expiresAt ?? now
        tombstone.expiresAt = now.adding(settings.expiredRecordRetention)
        tombstone.updatedAt = now
        var tombstoneError: (any Error)?
        do {
            _ = try await jobStore.create(tombstone)
        } catch {
            tombstoneError = error
        }
        try await deleteFiles(of: job)
        report.expired.append(job.id)
        observer.observe(.expired(job.id))
        if let tombstoneError { throw tombstoneError }
    }

    /// Runs a pass every `interval` until the task is cancelled.
    ///
    /// A pass that fails is reported to the observer as ``ExportEvent/Name/reconcileFailed`` with its
    /// code and tried again at the next interval; a fault that cannot heal by waiting (unauthorized, a
    /// missing table or bucket, a configuration error) ends the loop by throwing, after it was reported.
    ///
    /// - Parameters:
    ///   - interval: The time between passes; one minute by default.
    /// - Throws: The fault that cannot heal by waiting.
    public func run(every interval: Duration = .seconds(60)) async throws {
        while !Task.isCancelled {
            do {
                try await reconcile()
            } catch where Task.isCancelled || error is CancellationError {
                return
            } catch {
                observer.observe(.fault(.reconcileFailed, error))
                if ExportWorker.cannotHealByWaiting(error) {
                    observer.observe(.fault(.stopped, error))
                    throw error
                }
            }
            do { try await clock.sleep(for: interval) } catch { return }
        }
    }

    /// Runs like ``run(every:)`` and returns when `gracefulShutdown` returns: the shape of a
    /// swift-service-lifecycle `Service` (see ``ExportWorker/run(gracefulShutdown:)``).
    ///
    /// - Parameters:
    ///   - interval: The time between passes.
    ///   - gracefulShutdown: Returns when the reconciler should stop.
    /// - Throws: As ``run(every:)``.
    public func run(every interval: Duration = .seconds(60), gracefulShutdown: @escaping @Sendable () async -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.run(every: interval) }
            group.addTask { await gracefulShutdown() }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    /// Deletes the result's file and every attempt's file (deleting a missing blob succeeds).
    private func deleteFiles(of job: ExportJob) async throws {
        if let key = job.result?.blobKey { try await blobStore.delete(key) }
        for key in try ExportWorker.attemptKeys(prefix: settings.keyPrefix, for: job) {
            try await blobStore.delete(key)
        }
    }

    private func needsRequeue(_ job: ExportJob, threshold: Date) -> Bool {
        switch job.state {
        case .queued: true
        case .retryScheduled: (job.lifecycle.nextAttemptAt ?? .distantPast) < threshold
        case .running: (job.lifecycle.leaseExpiresAt ?? .distantPast) < threshold
        case .succeeded, .failed, .cancelled: false
        }
    }
}
