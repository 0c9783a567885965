import Foundation

extension ExportWorker {
    /// Handles one delivery completely; never throws. An infrastructure failure while handling it
    /// (the job store is down, say) releases the message with a backoff delay, or leaves it to its lease.
    func process(_ delivery: Delivery) async {
        do {
            try await handle(delivery)
        } catch {
            let delay = random.withGenerator {
                configuration.retryPolicy.delay(afterAttempt: delivery.receiveCount, using: &$0)
            }
            await handOff { try await self.queue.release(delivery.receipt, delay: delay) }
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
                // The claim ended the job: its worker died too often, or died after a cancel request.
                job.updatedAt = now
                job.expiresAt = now.adding(configuration.retention)
                if job.state == .failed {
                    job.failure = ExportFailure(code: "attemptsExhausted", reason: "the export was interrupted \(job.attempt) times")
                }
                job = try await jobStore.update(job)
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
    private func runAttempt(_ claimed: ExportJob, delivery: Delivery) async throws {
        let attempt = claimed.attempt
        let key = try BlobKey(validating: "\(configuration.keyPrefix)/\(claimed.id).\(claimed.options.format.fileExtension)")
        let started = clock.now()
        var current = claimed
        var lastBeat = started
        do {
            let output = try await runner.run(claimed, into: key) { rows in
                try Task.checkCancellation()
                let now = clock.now()
                guard now.timeIntervalSince(lastBeat) >= JobLifecycle.seconds(configuration.heartbeatInterval) else { return }
                lastBeat = now
                current = try await heartbeat(current, rows: rows, receipt: delivery.receipt, now: now)
                observer.observe(.progress(current.id, rows: rows))
            }
            let link = try await blobStore.downloadLink(
                for: key, filename: ExportService.filename(for: current), expiresIn: configuration.linkExpiry)
            let now = clock.now()
            let stored = try await commit(current, attempt: attempt) { job in
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
            try await finish(stored, notify: .ready, link: link, disposal: .acknowledge, receipt: delivery.receipt)
        } catch let error as ExportError where error.code == .cancelled {
            try await stopCancelled(current, key: key, receipt: delivery.receipt)
        } catch let error as ExportError where error.code == .leaseLost {
            return  // another worker owns the job now; whatever we wrote it will write again
        } catch is CancellationError {
            let handedBack = current
            await handOff { try await self.relinquish(handedBack, receipt: delivery.receipt) }
        } catch {
            try await recordFailure(error, of: current, key: key, receipt: delivery.receipt)
        }
    }

    /// Renews the queue lease and the job lease, records progress, and notices a cancel request.
    private func heartbeat(_ job: ExportJob, rows: Int64, receipt: LeaseReceipt, now: Date) async throws -> ExportJob {
        let leaseEnd = try await queue.extendLease(receipt, by: configuration.visibilityTimeout)
        let stored = try await commit(job, attempt: job.attempt) { job in
            try job.lifecycle.extendLease(until: leaseEnd)
            job.rowsWritten = rows
            job.updatedAt = now
        }
        if stored.lifecycle.cancelRequested { throw ExportError(.cancelled, "the export was cancelled") }
        return stored
    }

    private func recordFailure(_ error: any Error, of job: ExportJob, key: BlobKey, receipt: LeaseReceipt) async throws {
        let exportError = ExportError.wrapping(error)
        let retryable = ExportError.isRetryable(error)
        let now = clock.now()
        var action: JobLifecycle.FailureAction?
        let stored: ExportJob
        do {
            stored = try await commit(job, attempt: job.attempt) { job in
                if job.lifecycle.cancelRequested { throw ExportError(.cancelled, "the export was cancelled") }
                action = try random.withGenerator { generator throws(ExportError) in
                    try job.lifecycle.fail(retryable: retryable, reason: exportError.message, policy: configuration.retryPolicy, now: now, using: &generator)
                }
                job.failure = ExportFailure(code: exportError.code.description, reason: exportError.message)
                job.updatedAt = now
                if job.state == .failed { job.expiresAt = now.adding(configuration.retention) }
            }
        } catch let error as ExportError where error.code == .cancelled {
            return try await stopCancelled(job, key: key, receipt: receipt)
        }
        switch action {
        case .retry(let delay):
            observer.observe(.retried(stored.id, attempt: stored.attempt, delay: delay, error: exportError.message))
            try await queue.release(receipt, delay: delay)
        case .giveUp(let reason):
            observer.observe(.failed(stored.id, attempt: stored.attempt, reason: reason))
            try await finish(stored, notify: .failed, link: nil, disposal: .deadLetter(reason: reason), receipt: receipt)
        case nil:
            break
        }
    }

    private func stopCancelled(_ job: ExportJob, key: BlobKey, receipt: LeaseReceipt) async throws {
        try await blobStore.delete(key)
        // Our copy may predate the cancel request; the stored job has it.
        let latest = try await jobStore.get(job.id) ?? job
        let now = clock.now()
        let stored = try await commit(latest, attempt: job.attempt) { job in
            try job.lifecycle.confirmCancelled()
            job.updatedAt = now
            job.expiresAt = now.adding(configuration.retention)
        }
        observer.observe(.cancelled(stored.id))
        try await queue.acknowledge(receipt)
    }

    private func relinquish(_ job: ExportJob, receipt: LeaseReceipt) async throws {
        let now = clock.now()
        _ = try await commit(job, attempt: job.attempt) { job in
            try job.lifecycle.relinquish()
            job.updatedAt = now
        }
        try await queue.release(receipt, delay: .zero)
    }

    /// Sends the missing notification (idempotently), records it, then acknowledges or dead-letters.
    private func finish(
        _ job: ExportJob,
        notify: NotificationKind?,
        link: DownloadLink?,
        disposal: JobLifecycle.MessageDisposal,
        receipt: LeaseReceipt
    ) async throws {
        if let kind = notify {
            try await notifier.send(try await notification(kind, for: job, link: link))
            observer.observe(.notified(job.id, kind: kind))
            try await markNotified(job.id)
        }
        switch disposal {
        case .acknowledge:
            try await queue.acknowledge(receipt)
        case .deadLetter(let reason):
            try await queue.deadLetter(receipt, reason: job.failure?.reason ?? reason)
        }
    }

    private func notification(_ kind: NotificationKind, for job: ExportJob, link: DownloadLink?) async throws -> ExportNotification {
        switch kind {
        case .failed:
            return ExportNotification(
                jobID: job.id, owner: job.owner, recipient: job.recipient,
                content: .failed(reason: job.failure?.reason ?? "the export failed"))
        case .ready:
            guard let result = job.result else { throw ExportError(.corruptData, "job \(job.id) succeeded without a result") }
            let now = clock.now()
            let remaining = (job.expiresAt ?? now.adding(configuration.linkExpiry)).timeIntervalSince(now)
            let freshLink: DownloadLink
            if let link {
                freshLink = link
            } else {
                freshLink = try await blobStore.downloadLink(
                    for: result.blobKey, filename: ExportService.filename(for: job),
                    expiresIn: min(configuration.linkExpiry, .milliseconds(Int64(max(1, remaining * 1000)))))
            }
            return ExportNotification(
                jobID: job.id, owner: job.owner, recipient: job.recipient,
                content: .ready(.init(link: freshLink.url, expiresAt: freshLink.expiresAt, rows: result.rows, bytes: result.bytes, format: result.format)))
        }
    }

    private func markNotified(_ id: JobID) async throws {
        for _ in 0..<8 {
            guard var job = try await jobStore.get(id) else { return }
            if job.lifecycle.notified { return }
            try job.lifecycle.markNotified()
            job.updatedAt = clock.now()
            do {
                _ = try await jobStore.update(job)
                return
            } catch let error as ExportError where error.code == .versionConflict {
                continue
            }
        }
        throw ExportError(.versionConflict, "job \(id) kept changing while recording its notification")
    }

    /// Applies `change` to the running attempt's job and stores it; on a version conflict, re-reads and
    /// applies it again as long as the job is still this attempt's. Otherwise the lease was lost.
    @discardableResult
    func commit(_ job: ExportJob, attempt: Int, _ change: (inout ExportJob) throws -> Void) async throws -> ExportJob {
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

    /// Runs cleanup I/O in a task of its own, so it still happens when the calling task was cancelled.
    func handOff(_ body: @escaping @Sendable () async throws -> Void) async {
        await Task { try? await body() }.value
    }

    static func duration(from start: Date, to end: Date) -> Duration {
        .milliseconds(Int64((end.timeIntervalSince(start) * 1000).rounded()))
    }
}
