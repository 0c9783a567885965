import Foundation

/// Periodic repair: queues again the jobs nobody is working on, and deletes what has expired.
///
/// - A job **queued** (or due for retry) but untouched for ``Configuration/requeueAfter`` was recorded
///   but never queued (the process died between the two, or the queue was down), or its message was
///   lost: it is queued again.
/// - A job **running** whose lease ran out more than ``Configuration/requeueAfter`` ago lost its worker
///   and its message: it is queued again, and the next worker takes it over.
/// - A job that **ended without its notification** (the notifier was down past the worker's delivery
///   budget, or refused for a cause since fixed) gets it sent, once per pass until it goes through.
/// - Expiry has two stages, so the e-mailed link's route can answer "expired" (410) rather than "not
///   found" for as long as someone may click it: a job past its ``ExportJob/expiresAt`` loses its files
///   and is kept as a tombstone (``ExportJob/expiredAt`` set, result metadata kept) for
///   ``ExportSettings/expiredRecordRetention``; only then is the record deleted. Files always go
///   first, so a crash or a failed delete never leaves a file that no record names.
/// - Blob writes abandoned by crashed workers are aborted.
///
/// Requeueing is always safe: the worker's claim turns a duplicate message into a no-op, and a job
/// whose message is still in the queue is not queued again.
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
        /// Ended jobs whose pending notification this pass sent.
        public var notified: [JobID] = []
        /// Abandoned blob writes aborted.
        public var abortedWrites = 0

        /// An empty report.
        public init() {}

        /// Whether the pass changed no job (aborted writes aside): nothing was left to repair.
        public var isEmpty: Bool { requeued.isEmpty && expired.isEmpty && purged.isEmpty && notified.isEmpty }
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
    /// - Throws: A port's error. Requeueing stops at the first one (the next pass resumes); pending
    ///   notifications and expiry go on with the rest of their batch and the first error is thrown at
    ///   the end.
    @discardableResult
    public func reconcile() async throws -> Report {
        var report = Report()
        let now = clock.now()
        let threshold = now.adding(.zero - configuration.requeueAfter)
        try await requeueStuck(now: now, threshold: threshold, report: &report)
        var firstError: (any Error)?
        await notifyPending(now: now, threshold: threshold, report: &report)
        // Each expired job is handled on its own, files first: an error on one leaves its record (which
        // still names its files) for the next pass, and the others go on.
        for job in try await jobStore.expired(now: now, limit: configuration.batchSize) {
            do {
                try await expire(job, now: now, report: &report)
            } catch {
                observer.observe(.fault(.reconcileFailed, error, jobID: job.id))
                firstError = firstError ?? error
            }
        }
        report.abortedWrites = try await blobStore.abortIncompleteWrites(startedBefore: now.adding(.zero - configuration.abandonedWriteAge))
        if let firstError { throw firstError }
        return report
    }

    /// Queues again the jobs nobody is working on whose message is gone. A job with a live message in
    /// the queue (waiting in a backlog, delayed, leased) is left alone, so requeueing never multiplies
    /// messages; a queue that cannot tell (``Queue/jobsWithLiveMessages(among:)`` is `nil`) leaves it to
    /// time alone, and the duplicates that can make are no-ops at the worker's claim.
    private func requeueStuck(now: Date, threshold: Date, report: inout Report) async throws {
        let candidates = try await jobStore.stale(
            in: [.queued, .retryScheduled, .running], updatedBefore: threshold, limit: configuration.batchSize
        ).filter { needsRequeue($0, threshold: threshold) }
        guard !candidates.isEmpty else { return }
        let live = try await queue.jobsWithLiveMessages(among: Set(candidates.map(\.id))) ?? []
        for job in candidates where !live.contains(job.id) {
            var touched = job
            touched.updatedAt = now
            do {
                // The compare-and-swap makes one reconciler of several the one that queues this job.
                _ = try await jobStore.update(touched)
            } catch let error as ExportError where error.code == .versionConflict {
                continue  // somebody is working on it after all
            }
            try await queue.enqueue(QueueMessage(jobID: job.id))
            observer.observe(.requeued(job.id, state: job.state))
            report.requeued.append(job.id)
        }
    }

    /// Sends the notifications still pending on ended jobs (the notifier was down for longer than the
    /// worker's delivery budget, or refused for a reason since fixed), once per pass for each job
    /// whose record has been quiet for ``Configuration/requeueAfter``. A failure is recorded on the job
    /// and reported (``ExportEvent/Name/notificationPending``), and tried again at the next pass; the
    /// notifier's idempotency key keeps it to one e-mail.
    private func notifyPending(now: Date, threshold: Date, report: inout Report) async {
        let pending: [ExportJob]
        do {
            pending = try await jobStore.unnotified(updatedBefore: threshold, limit: configuration.batchSize)
        } catch {
            observer.observe(.fault(.reconcileFailed, error))
            return
        }
        let delivery = NotificationDelivery(ports: ports)
        for job in pending {
            let kind: NotificationKind = job.state == .succeeded ? .ready : .failed
            // A "ready" e-mail for a file that has expired would carry a dead link: leave it to expiry.
            if kind == .ready, job.expiredAt != nil || job.expiresAt.map({ $0 <= now }) == true { continue }
            do {
                try await delivery.deliver(kind, for: job)
                report.notified.append(job.id)
            } catch {
                continue  // recorded on the job and reported by the delivery; the next pass tries again
            }
        }
    }

    /// Expiry, files first. A job in its first stage loses its files, then its record becomes a
    /// tombstone in place (``ExportJob/expiredAt`` set, kept for the expired-record retention, so its
    /// owner hears 410). A tombstone past that retention loses any file once more (in case a crash or
    /// a failed delete stopped the first stage half-way), then its record. A crash or an error at any
    /// instant leaves a record that still names the files, and the next pass does the rest.
    private func expire(_ job: ExportJob, now: Date, report: inout Report) async throws {
        try await deleteFiles(of: job)
        guard job.expiredAt == nil else {
            do {
                try await jobStore.delete(job)
            } catch let error as ExportError where error.code == .versionConflict {
                return  // changed meanwhile: the next pass sees it as it is now
            }
            report.purged.append(job.id)
            observer.observe(.purged(job.id))
            return
        }
        var tombstone = job
        tombstone.uniqueKey = nil
        tombstone.expiredAt = job.expiresAt ?? now
        tombstone.expiresAt = now.adding(settings.expiredRecordRetention)
        tombstone.updatedAt = now
        do {
            _ = try await jobStore.update(tombstone)
        } catch let error as ExportError where error.code == .versionConflict {
            return
        }
        report.expired.append(job.id)
        observer.observe(.expired(job.id))
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
