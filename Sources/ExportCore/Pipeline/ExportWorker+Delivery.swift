import Foundation

extension ExportWorker {
    /// Handles one delivery completely; never throws.
    ///
    /// A failure while handling it outside the export itself (the job store is down, the notifier
    /// refuses, the queue rejects an acknowledgement) releases the message with a backoff delay, so it
    /// is tried again. That is bounded: an error that is not retryable, or the
    /// ``Configuration/maxDeliveries``-th failed delivery, dead-letters the message instead and ends a
    /// job that has not ended as failed (see ``giveUp(_:after:)``).
    func process(_ delivery: Delivery) async {
        do {
            try await handle(delivery)
        } catch {
            let stopping = error is CancellationError || Task.isCancelled
            if !stopping, !ExportError.isRetryable(error) || delivery.receiveCount >= configuration.maxDeliveries {
                let gaveUp = await handOffResult { try await self.giveUp(delivery, after: error) }
                if gaveUp { return }
            }
            let delay = random.withGenerator {
                configuration.retryPolicy.delay(afterAttempt: delivery.receiveCount, using: &$0)
            }
            await handOff { try await self.queue.release(delivery.receipt, delay: stopping ? .zero : delay) }
        }
    }

    /// Ends the handling of a message that cannot be handled: marks a job that has not ended as failed
    /// (with a reason), tells the user if the notifier allows, and dead-letters the message.
    ///
    /// - Throws: ``ExportError/Code/leaseLost`` without touching anything when the job is not this
    ///   message's to end: another worker runs it under a live lease, or its retry is not yet due (this
    ///   is a duplicate, such as the Reconciler's re-queue, whose receive count grew while it waited).
    ///   The caller then releases the message as for any retryable failure.
    private func giveUp(_ delivery: Delivery, after error: any Error) async throws {
        let exportError = ExportError.wrapping(error)
        let why = ExportError.isRetryable(error) ? "gave up after \(delivery.receiveCount) deliveries" : "not retryable"
        let reason = "\(exportError.message) (\(why))"
        // A corrupt or unreadable record cannot be marked; the dead letter still carries the reason.
        if var job = try? await jobStore.get(delivery.message.jobID), !job.state.isTerminal {
            let now = clock.now()
            if Self.isHeldElsewhere(job.lifecycle, now: now) {
                throw ExportError(.leaseLost, "job \(job.id) is another delivery's to finish")
            }
            let state = try job.lifecycle.abandon()
            job.failure = ExportFailure(code: exportError.code.description, reason: reason)
            job.updatedAt = now
            job.expiresAt = now.adding(configuration.retention)
            if let stored = try? await jobStore.update(job) {
                await discardFiles(of: stored, keeping: nil)
                if state == .failed {
                    observer.observe(.failed(stored.id, attempt: stored.attempt, reason: reason))
                    // Best effort: the notifier may be what keeps failing.
                    if let message = try? await notification(.failed, for: stored, link: nil), (try? await notifier.send(message)) != nil {
                        observer.observe(.notified(stored.id, kind: .failed))
                        try? await markNotified(stored.id)
                    }
                } else {
                    observer.observe(.cancelled(stored.id))
                }
            }
        }
        try await queue.deadLetter(delivery.receipt, reason: reason)
        observer.observe(.deadLettered(delivery.message.jobID, reason: reason))
    }

    /// Whether a job is being run, or waits for a retry, under another delivery's responsibility.
    static func isHeldElsewhere(_ lifecycle: JobLifecycle, now: Date) -> Bool {
        switch lifecycle.state {
        case .running: lifecycle.leaseExpiresAt.map { $0 > now } ?? false
        case .retryScheduled: lifecycle.nextAttemptAt.map { $0 > now } ?? false
        default: false
        }
    }

    private func handle(_ delivery: Delivery) async throws {
        guard var job = try await jobStore.get(delivery.message.jobID) else {
            // The job expired or never existed: nothing to do for this message.
            try await queue.acknowledge(delivery.receipt)
            return
        }
        let before = job.lifecycle
        let now = clock.now()
        switch job.lifecycle.claim(now: now, lease: configuration.visibilityTimeout, maxAttempts: configuration.retryPolicy.maxAttempts) {
        case .redeliverLater(let delay):
            try await queue.release(delivery.receipt, delay: delay)
        case .finish(let notify, let disposal):
            if job.lifecycle != before {
                // The claim ended the job: its worker died too often, or a cancel request outlived it.
                job.updatedAt = now
                job.expiresAt = now.adding(configuration.retention)
                if job.state == .failed {
                    job.failure = ExportFailure(code: "attemptsExhausted", reason: "the export was interrupted \(job.attempt) times")
                }
                job = try await jobStore.update(job)
                // Files finished by earlier attempts (a stalled worker's) must not outlive the job.
                await discardFiles(of: job, keeping: nil)
                if job.state == .failed { observer.observe(.failed(job.id, attempt: job.attempt, reason: job.failure?.reason ?? "")) }
                if job.state == .cancelled { observer.observe(.cancelled(job.id)) }
            }
            try await finish(job, notify: notify, link: nil, disposal: disposal, receipt: delivery.receipt)
        case .run(let attempt):
            job.updatedAt = now
            job.rowsWritten = 0
            job = try await jobStore.update(job)
            observer.observe(.started(job.id, attempt: attempt, waited: Self.duration(from: job.createdAt, to: now)))
            try await runAttempt(job, delivery: delivery)
        }
    }

    /// Runs one attempt and records its outcome.
    ///
    /// Each attempt writes its own file (``blobKey(prefix:for:attempt:)``), so a stalled worker that lost
    /// its lease can never overwrite the file of the attempt that succeeded; it deletes its own file when
    /// it finds the job is no longer its own. Once the job is recorded as succeeded, the notification and
    /// the acknowledgement run outside the export's error handling: their failure leaves the job
    /// succeeded and the message comes back to retry them (one e-mail, by the notifier's idempotency key).
    private func runAttempt(_ claimed: ExportJob, delivery: Delivery) async throws {
        let key = try Self.blobKey(prefix: configuration.keyPrefix, for: claimed, attempt: claimed.attempt)
        let started = clock.now()
        let attempt = AttemptState(claimed)
        let stored: ExportJob
        let link: DownloadLink
        do {
            let output = try await export(claimed, into: key, state: attempt, receipt: delivery.receipt)
            link = try await blobStore.downloadLink(
                for: key, filename: ExportService.filename(for: claimed), expiresIn: configuration.linkExpiry)
            let now = clock.now()
            stored = try await commit(attempt.job, attempt: claimed.attempt) { job in
                try job.lifecycle.succeed()
                job.rowsWritten = output.rows
                job.result = ExportResult(
                    blobKey: key, rows: output.rows, bytes: output.blob.size, sha256: output.sha256,
                    format: job.options.format, linkExpiresAt: link.expiresAt)
                job.failure = nil
                job.updatedAt = now
                job.expiresAt = now.adding(configuration.retention)
            }
            observer.observe(.succeeded(stored.id, rows: output.rows, bytes: output.blob.size, duration: Self.duration(from: started, to: now)))
        } catch let error as ExportError where error.code == .leaseLost {
            // Another worker owns the job now: whatever this attempt wrote is nobody's file.
            await handOff { try await self.blobStore.delete(key) }
            return
        } catch where error is CancellationError || Task.isCancelled {
            // This worker is stopping (whatever error the interrupted call surfaced): hand the job back
            // without counting the attempt; `relinquish` cancels it if the user asked meanwhile.
            let handedBack = attempt.job
            await handOff { try await self.relinquish(handedBack, key: key, receipt: delivery.receipt) }
            return
        } catch let error as ExportError where error.code == .cancelled {
            return try await stopCancelled(attempt.job, key: key, receipt: delivery.receipt)
        } catch {
            return try await recordFailure(error, of: attempt.job, key: key, receipt: delivery.receipt)
        }
        // Post-success phase: the job stays succeeded whatever happens from here on.
        await discardFiles(of: stored, keeping: key)
        try await finish(stored, notify: .ready, link: link, disposal: .acknowledge, receipt: delivery.receipt)
    }

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

    /// Deletes, best effort, the files every attempt of `job` may have left, except `keeping`.
    func discardFiles(of job: ExportJob, keeping: BlobKey?) async {
        let prefix = configuration.keyPrefix
        let blobStore = blobStore
        await handOff {
            for key in try Self.attemptKeys(prefix: prefix, for: job) where key != keeping {
                try? await blobStore.delete(key)
            }
        }
    }

    static func duration(from start: Date, to end: Date) -> Duration {
        .milliseconds(JobLifecycle.milliseconds(end.timeIntervalSince(start), rounding: .toNearestOrAwayFromZero))
    }
}
