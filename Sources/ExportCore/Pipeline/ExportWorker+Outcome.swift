import Foundation

extension ExportWorker {
    /// Records a failed attempt: schedules a retry and releases the message, or fails the job, tells
    /// the user and dead-letters the message, or (after a cancel request) cancels it. The attempt's file
    /// is deleted in every case.
    func recordFailure(_ error: any Error, of job: ExportJob, key: BlobKey, receipt: LeaseReceipt) async throws {
        let exportError = ExportError.wrapping(error)
        let retryable = ExportError.isRetryable(error)
        let now = clock.now()
        var action: JobLifecycle.FailureAction?
        let stored: ExportJob
        do {
            stored = try await commit(job, attempt: job.attempt) { job in
                action = try random.withGenerator { generator throws(ExportError) in
                    try job.lifecycle.fail(retryable: retryable, reason: exportError.message, policy: configuration.retryPolicy, now: now, using: &generator)
                }
                if job.state != .cancelled { job.failure = ExportFailure(code: exportError.code.description, reason: exportError.message) }
                job.updatedAt = now
                if job.state.isTerminal { job.expiresAt = now.adding(configuration.retention) }
            }
        } catch let error as ExportError where error.code == .leaseLost {
            await handOff { try await self.blobStore.delete(key) }  // the job is another worker's now
            return
        }
        switch action {
        case .retry(let delay):
            await handOff { try await self.blobStore.delete(key) }
            observer.observe(.retried(stored.id, attempt: stored.attempt, delay: delay, error: exportError.message))
            try await queue.release(receipt, delay: delay)
        case .giveUp(let reason):
            await discardFiles(of: stored, keeping: nil)
            observer.observe(.failed(stored.id, attempt: stored.attempt, reason: reason))
            try await finish(stored, notify: .failed, link: nil, disposal: .deadLetter(reason: reason), receipt: receipt)
        case .cancelled:
            await discardFiles(of: stored, keeping: nil)
            observer.observe(.cancelled(stored.id))
            try await queue.acknowledge(receipt)
        case nil:
            break
        }
    }

    /// Ends a running attempt whose job the user cancelled: deletes the file, records the cancellation.
    func stopCancelled(_ job: ExportJob, key: BlobKey, receipt: LeaseReceipt) async throws {
        try await blobStore.delete(key)
        // Our copy may predate the cancel request; the stored job has it. If the job is no longer this
        // attempt's (another worker took it over), ending it is not ours to do.
        guard let latest = try await jobStore.get(job.id), latest.state == .running, latest.attempt == job.attempt else {
            throw ExportError(.leaseLost, "job \(job.id) was taken over by another worker")
        }
        let now = clock.now()
        let stored = try await commit(latest, attempt: job.attempt) { job in
            try job.lifecycle.confirmCancelled()
            job.updatedAt = now
            job.expiresAt = now.adding(configuration.retention)
        }
        await discardFiles(of: stored, keeping: nil)
        observer.observe(.cancelled(stored.id))
        try await queue.acknowledge(receipt)
    }

    /// Hands a running job back (shutdown): it is queued again, or cancelled when a cancel was requested.
    func relinquish(_ job: ExportJob, key: BlobKey, receipt: LeaseReceipt) async throws {
        try await blobStore.delete(key)
        let now = clock.now()
        let stored = try await commit(job, attempt: job.attempt) { job in
            if try job.lifecycle.relinquish() == .cancelled { job.expiresAt = now.adding(configuration.retention) }
            job.updatedAt = now
        }
        if stored.state == .cancelled {
            await discardFiles(of: stored, keeping: nil)
            observer.observe(.cancelled(stored.id))
            try await queue.acknowledge(receipt)
        } else {
            try await queue.release(receipt, delay: .zero)
        }
    }

    /// Sends the missing notification (idempotently), records it, then acknowledges or dead-letters.
    func finish(
        _ job: ExportJob,
        notify: NotificationKind?,
        link: DownloadLink?,
        disposal: JobLifecycle.MessageDisposal,
        receipt: LeaseReceipt
    ) async throws {
        // A "ready" e-mail for an export whose file has expired (a dead letter redriven late) would carry
        // a dead link: say nothing; the status route tells the user it expired.
        if let kind = notify, !(kind == .ready && job.expiredAt != nil) {
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

    func notification(_ kind: NotificationKind, for job: ExportJob, link: DownloadLink?) async throws -> ExportNotification {
        switch kind {
        case .failed:
            return ExportNotification(
                jobID: job.id, owner: job.owner, recipient: job.recipient,
                content: .failed(reason: job.failure?.userFacingReason ?? ExportFailure.userFacingReason(forCode: "internal")))
        case .ready:
            guard let result = job.result else { throw ExportError(.corruptData, "job \(job.id) succeeded without a result") }
            let now = clock.now()
            let remaining = (job.expiresAt ?? now.adding(configuration.linkExpiry)).timeIntervalSince(now)
            let freshLink: DownloadLink
            if let link {
                freshLink = link
            } else {
                let milliseconds = JobLifecycle.milliseconds(max(0.001, remaining), rounding: .up)
                freshLink = try await blobStore.downloadLink(
                    for: result.blobKey, filename: ExportService.filename(for: job),
                    expiresIn: min(configuration.linkExpiry, .milliseconds(milliseconds)))
            }
            return ExportNotification(
                jobID: job.id, owner: job.owner, recipient: job.recipient,
                content: .ready(.init(link: freshLink.url, expiresAt: freshLink.expiresAt, rows: result.rows, bytes: result.bytes, format: result.format)))
        }
    }

    func markNotified(_ id: JobID) async throws {
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

    /// Like ``handOff(_:)``, and tells whether the body succeeded.
    func handOffResult(_ body: @escaping @Sendable () async throws -> Void) async -> Bool {
        await Task { () -> Bool in
            do {
                try await body()
                return true
            } catch {
                return false
            }
        }.value
    }
}
