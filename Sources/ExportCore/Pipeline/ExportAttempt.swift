import Foundation
import Synchronization

/// One delivery's work on its job: the claim (compare-and-swap on the job's lifecycle), the export with a
/// heartbeat beside it, and the commit of what came of it (succeeded, retried, failed, cancelled or
/// handed back).
///
/// Each attempt writes its own file (``ExportWorker/blobKey(prefix:for:attempt:)``), so a stalled
/// worker that lost its lease can never overwrite the file of the attempt that succeeded; it deletes
/// its own file when it finds the job is no longer its own. The one exception is an attempt that
/// continues a checkpoint (``ExportCheckpoint``): it finishes the earlier attempt's file, which the
/// blob store hands to one writer at a time (a stalled writer still holding it makes the new attempt
/// start afresh under its own key).
struct ExportAttempt: Sendable {
    let context: WorkerContext
    let delivery: Delivery

    var notifications: NotificationDelivery {
        NotificationDelivery(
            ports: context.ports,
            keepAlive: .init(
                visibilityTimeout: configuration.visibilityTimeout, interval: configuration.resolvedHeartbeatInterval, timer: context.heartbeatTimer))
    }
    var configuration: ExportWorker.Configuration { context.configuration }
    var observer: any ExportObserver { context.observer }
    var receipt: LeaseReceipt { delivery.receipt }

    /// Claims the job and does what the claim says: run an attempt, finish a job that has ended, or
    /// put the message back for later.
    func handle() async throws {
        let read: ExportJob?
        if let snapshot = delivery.job, snapshot.id == delivery.message.jobID {
            read = snapshot  // read with the lease: one round trip fewer
        } else {
            read = try await context.jobStore.get(delivery.message.jobID)
        }
        guard var job = read else {
            // The job expired or never existed: nothing to do for this message.
            try await context.queue.acknowledge(receipt)
            return
        }
        let before = job.lifecycle
        let now = context.now()
        switch job.lifecycle.claim(
            now: now, lease: configuration.visibilityTimeout, maxInterruptions: configuration.retryPolicy.maxInterruptions,
            message: delivery.id.rawValue) {
        case .redeliverLater(let delay):
            try await context.queue.release(receipt, delay: delay)
        case .discardDuplicate:
            try await context.queue.acknowledge(receipt)
            observer.observe(.duplicateDiscarded(job.id, message: delivery.id))
        case .finish(let notify, let disposal):
            if job.lifecycle != before {
                // The claim ended the job: its workers died too often, or a cancel request outlived it.
                let partial = job.checkpoint
                if job.state == .failed {
                    job.failure = ExportFailure(
                        code: "interruptionsExhausted",
                        reason: "the export was interrupted \(job.lifecycle.interruptions + 1) times (the limit is \(configuration.retryPolicy.maxInterruptions))")
                }
                job.stamp(now: now, retention: context.settings.retention)
                job = try await context.jobStore.update(job)
                // Files finished by earlier attempts (a stalled worker's) must not outlive the job.
                await context.discardFiles(of: job, keeping: nil)
                await context.discardPartial(partial, of: job.id)
                if job.state == .failed {
                    observer.observe(.failed(job.id, attempt: job.attempt, code: .permanent, reason: job.failure?.reason ?? ""))
                }
                if job.state == .cancelled { observer.observe(.cancelled(job.id)) }
            }
            try await notifications.finish(job, notify: notify, link: nil, disposal: disposal, delivery: delivery)
        case .run(let attempt):
            job.rowsWritten = job.checkpoint?.rows ?? 0
            job.attemptStartedAt = now
            do {
                job.totalRows = try await context.runner.rowCount(for: job)
            } catch {
                // Progress then shows rows and rate only; the export itself does not need the count.
                job.totalRows = nil
                observer.observe(.fault(.countFailed, error, jobID: job.id))
            }
            job.stamp(now: now, retention: nil)
            job = try await context.jobStore.update(job)
            observer.observe(.started(job.id, attempt: attempt, waited: ExportWorker.duration(from: job.createdAt, to: now)))
            try await run(job)
        }
    }

    /// Runs one attempt and records its outcome. Once the job is recorded as succeeded, the
    /// notification and the acknowledgement run outside the export's error handling: their failure
    /// leaves the job succeeded and the message comes back to retry them (one e-mail, by the notifier's
    /// idempotency key).
    private func run(_ claimed: ExportJob) async throws {
        let key = try context.blobKey(for: claimed, attempt: claimed.attempt)
        let started = context.now()
        let attempt = AttemptState(claimed)
        let stored: ExportJob
        let link: DownloadLink
        let written: BlobKey
        var finished: BlobKey?
        do {
            let output = try await export(claimed, into: key, state: attempt)
            written = output.blob.key
            finished = written
            if let rows = output.resumedAfterRow { observer.observe(.resumed(claimed.id, attempt: claimed.attempt, rows: rows)) }
            let now = context.now()
            let retention = context.settings.retention
            if let stable = context.settings.stableLink(for: claimed.id, fileExpiresAt: now.adding(retention)) {
                link = stable
            } else {
                link = try await context.blobStore.downloadLink(
                    for: written, filename: ExportService.filename(for: claimed), expiresIn: context.settings.linkLifetime)
            }
            stored = try await context.commit(attempt.job, attempt: claimed.attempt) { job throws(ExportError) in
                try job.lifecycle.succeed()
                job.rowsWritten = output.rows
                job.result = ExportResult(
                    blobKey: written, rows: output.rows, bytes: output.blob.size, sha256: output.sha256,
                    format: job.options.format, linkExpiresAt: link.expiresAt)
                job.failure = nil
                job.stamp(now: now, retention: retention)
            }
            observer.observe(
                .succeeded(stored.id, attempt: stored.attempt, rows: output.rows, bytes: output.blob.size, duration: ExportWorker.duration(from: started, to: now)))
        } catch let error as ExportError where error.code == .leaseLost {
            // Another worker owns the job now: whatever this attempt finished is nobody's file. A partial
            // file is left alone: the new owner may continue it from the job's checkpoint.
            let mine = finished ?? key
            await context.handOff(claimed.id) { try await context.blobStore.delete(mine) }
            return
        } catch where error is CancellationError || Task.isCancelled {
            // This worker is stopping (whatever error the interrupted call surfaced): hand the job back
            // without counting the attempt; `relinquish` cancels it if the user asked meanwhile.
            let handedBack = attempt.job
            await context.handOff(claimed.id) { try await relinquish(handedBack, key: key) }
            return
        } catch let error as ExportError where error.code == .cancelled {
            return try await stopCancelled(attempt.job, key: key)
        } catch {
            return try await recordFailure(error, of: attempt.job, key: key)
        }
        // Post-success phase: the job stays succeeded whatever happens from here on.
        await context.discardFiles(of: stored, keeping: written)
        try await notifications.finish(stored, notify: .ready, link: link, disposal: .acknowledge, delivery: delivery)
    }

    /// Records a failed attempt: schedules a retry and releases the message, or fails the job, tells
    /// the user and dead-letters the message, or (after a cancel request) cancels it. The attempt's file
    /// is deleted in every case.
    private func recordFailure(_ error: any Error, of job: ExportJob, key: BlobKey) async throws {
        let exportError = ExportError.wrapping(error)
        let retryable = ExportError.isRetryable(error)
        let environmental = ExportError.isEnvironmental(error)
        let now = context.now()
        let retention = context.settings.retention
        var action: JobLifecycle.FailureAction?
        var partial: ExportCheckpoint?
        let stored: ExportJob
        do {
            stored = try await context.commit(job, attempt: job.attempt) { job throws(ExportError) in
                partial = job.checkpoint  // kept for the retry; cleared (and discarded below) when the job ends
                action = try context.random.withGenerator { generator throws(ExportError) in
                    try job.lifecycle.fail(
                        retryable: retryable, environmental: environmental, reason: exportError.message, policy: configuration.retryPolicy,
                        now: now, using: &generator)
                }
                if job.state != .cancelled { job.failure = ExportFailure(code: exportError.code.description, reason: exportError.message) }
                job.stamp(now: now, retention: retention)
            }
        } catch let error as ExportError where error.code == .leaseLost {
            await context.handOff(job.id) { try await context.blobStore.delete(key) }  // the job is another worker's now
            return
        }
        switch action {
        case .retry(let delay):
            await context.handOff(job.id) { try await context.blobStore.delete(key) }
            observer.observe(.retried(stored.id, attempt: stored.attempt, delay: delay, error: exportError))
            try await context.queue.release(receipt, delay: delay)
        case .giveUp(let reason):
            await context.discardFiles(of: stored, keeping: nil)
            await context.discardPartial(partial, of: stored.id)
            observer.observe(.failed(stored.id, attempt: stored.attempt, code: exportError.code, reason: reason))
            try await notifications.finish(stored, notify: .failed, link: nil, disposal: .deadLetter(reason: reason), delivery: delivery)
        case .cancelled:
            await context.discardFiles(of: stored, keeping: nil)
            await context.discardPartial(partial, of: stored.id)
            observer.observe(.cancelled(stored.id))
            try await context.queue.acknowledge(receipt)
        case nil:
            break
        }
    }

    /// Ends a running attempt whose job the user cancelled: deletes the file, records the cancellation.
    private func stopCancelled(_ job: ExportJob, key: BlobKey) async throws {
        try await context.blobStore.delete(key)
        // Our copy may predate the cancel request; the stored job has it. If the job is no longer this
        // attempt's (another worker took it over), ending it is not ours to do.
        guard let latest = try await context.jobStore.get(job.id), latest.state == .running, latest.attempt == job.attempt else {
            throw ExportError(.leaseLost, "job \(job.id) was taken over by another worker")
        }
        let now = context.now()
        let retention = context.settings.retention
        var partial: ExportCheckpoint?
        let stored = try await context.commit(latest, attempt: job.attempt) { job throws(ExportError) in
            partial = job.checkpoint
            try job.lifecycle.confirmCancelled()
            job.stamp(now: now, retention: retention)
        }
        await context.discardFiles(of: stored, keeping: nil)
        await context.discardPartial(partial, of: stored.id)
        observer.observe(.cancelled(stored.id))
        try await context.queue.acknowledge(receipt)
    }

    /// Hands a running job back (shutdown): it is queued again, or cancelled when a cancel was requested.
    private func relinquish(_ job: ExportJob, key: BlobKey) async throws {
        try await context.blobStore.delete(key)
        let now = context.now()
        let retention = context.settings.retention
        var partial: ExportCheckpoint?
        let stored = try await context.commit(job, attempt: job.attempt) { job throws(ExportError) in
            partial = job.checkpoint  // a job handed back keeps it: the next attempt continues from it
            _ = try job.lifecycle.relinquish()
            job.stamp(now: now, retention: retention)
        }
        if stored.state == .cancelled {
            await context.discardFiles(of: stored, keeping: nil)
            await context.discardPartial(partial, of: stored.id)
            observer.observe(.cancelled(stored.id))
            try await context.queue.acknowledge(receipt)
        } else {
            observer.observe(.handedBack(stored.id, attempt: job.attempt))
            try await context.queue.release(receipt, delay: .zero)
        }
    }
}
