import Foundation

/// What the parts of a worker share: the ports, the settings, the configuration, the runner, the
/// jitter source and the heartbeats' timer, with the few helpers every part uses (the attempt's
/// compare-and-swap, clean-up that survives cancellation and reports its failures, attempt file keys).
struct WorkerContext: Sendable {
    let ports: ExportPorts
    let configuration: ExportWorker.Configuration
    let runner: ExportRunner
    let random: SharedRandom
    /// The heartbeats' sleeps (the exports' and the finishing steps'), on ``clock``: one sleep on the
    /// clock however many exports run.
    let heartbeatTimer: SharedTimer

    var jobStore: any JobStore { ports.jobStore }
    var queue: any Queue { ports.queue }
    var blobStore: any BlobStore { ports.blobStore }
    var notifier: any Notifier { ports.notifier }
    var clock: any ExportClock { ports.clock }
    var observer: any ExportObserver { ports.observer }
    var settings: ExportSettings { ports.settings }

    /// Applies `change` to the running attempt's job and stores it; on a version conflict, re-reads
    /// and applies it again as long as the job is still this attempt's. Otherwise the lease was lost.
    @discardableResult
    func commit(_ job: ExportJob, attempt: Int, _ change: (inout ExportJob) throws(ExportError) -> Void) async throws -> ExportJob {
        var current = job
        for _ in 0..<8 {
            var next = current
            try change(&next)
            do {
                return try await jobStore.update(next)
            } catch let error as ExportError where error.code == .versionConflict {
                guard let fresh = try await jobStore.get(job.id), fresh.state == .running, fresh.attempt == attempt else {
                    throw ExportError(.leaseLost, "job \(job.id) was taken over by another worker")
                }
                current = fresh
            }
        }
        throw ExportError(.versionConflict, "job \(job.id) kept changing")
    }

    /// Runs clean-up I/O in a task of its own, so it still happens when the calling task was
    /// cancelled; a failure reaches the observer as ``ExportEvent/Name/cleanupFailed``.
    ///
    /// - Returns: Whether the body succeeded.
    @discardableResult
    func handOff(_ job: JobID? = nil, _ body: @escaping @Sendable () async throws -> Void) async -> Bool {
        let observer = observer
        return await Task { () -> Bool in
            do {
                try await body()
                return true
            } catch {
                observer.observe(.fault(.cleanupFailed, error, jobID: job))
                return false
            }
        }.value
    }

    /// The blob key of one attempt's file: `<prefix>/<job id>-<attempt>.<extension>`.
    ///
    /// - Throws: ``ExportError/Code/invalidKey`` for a prefix that does not make a valid key.
    func blobKey(for job: ExportJob, attempt: Int) throws -> BlobKey {
        try ExportWorker.blobKey(prefix: settings.keyPrefix, for: job, attempt: attempt)
    }

    /// Deletes, best effort, the files every attempt of `job` may have left, except `keeping`.
    func discardFiles(of job: ExportJob, keeping: BlobKey?) async {
        let keys: [BlobKey]
        do {
            keys = try ExportWorker.attemptKeys(prefix: settings.keyPrefix, for: job).filter { $0 != keeping }
        } catch {
            observer.observe(.fault(.cleanupFailed, error, jobID: job.id))
            return
        }
        // The first attempt's success keeps the one file there is: no task for nothing to delete.
        guard !keys.isEmpty else { return }
        let blobStore = blobStore
        await handOff(job.id) {
            for key in keys { try await blobStore.delete(key) }
        }
    }

    /// Removes, best effort, the partial file a checkpoint of a job that has ended still names (a live
    /// writer's is left to the store's sweep of abandoned writes).
    func discardPartial(_ checkpoint: ExportCheckpoint?, of job: JobID) async {
        guard let checkpoint else { return }
        let blobStore = blobStore
        await handOff(job) { try await blobStore.discardWrite(checkpoint.upload) }
    }

    func now() -> Date { clock.now() }
}

extension ExportWorker {
    /// The blob key of one attempt's file: `<prefix>/<job id>-<attempt>.<extension>`.
    ///
    /// - Throws: ``ExportError/Code/invalidKey`` for a prefix that does not make a valid key.
    static func blobKey(prefix: String, for job: ExportJob, attempt: Int) throws -> BlobKey {
        try BlobKey(validating: "\(prefix)/\(job.id)-\(attempt).\(job.options.format.fileExtension)")
    }

    /// The keys of the files every attempt of `job` may have written (bounded even for a corrupt
    /// attempt count); the worker and the ``Reconciler`` delete through this one list.
    static func attemptKeys(prefix: String, for job: ExportJob) throws -> [BlobKey] {
        try (1...min(max(1, job.attempt), 1_000)).map { try blobKey(prefix: prefix, for: job, attempt: $0) }
    }

    static func duration(from start: Date, to end: Date) -> Duration {
        .milliseconds(JobLifecycle.milliseconds(end.timeIntervalSince(start), rounding: .toNearestOrAwayFromZero))
    }
}
