import Foundation

/// The last step of a job's handling: the one "ready" or "failed" message, recorded on the job, then
/// the message's acknowledgement or dead-lettering.
///
/// The notifier's idempotency key (the job id and the kind) makes a repeated send after a crash the same
/// message, so the user hears once however often this step runs.
struct NotificationDelivery: Sendable {
    let context: WorkerContext

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
            try await send(kind, for: job, link: link)
        }
        switch disposal {
        case .acknowledge:
            try await context.queue.acknowledge(receipt)
        case .deadLetter(let reason):
            try await context.queue.deadLetter(receipt, reason: job.failure?.reason ?? reason)
        }
    }

    /// Sends one notification and records it on the job; a failure to send reaches the observer as
    /// ``ExportEvent/Name/notificationPending`` and is rethrown.
    func send(_ kind: NotificationKind, for job: ExportJob, link: DownloadLink?) async throws {
        do {
            try await context.notifier.send(try await notification(kind, for: job, link: link))
        } catch {
            context.observer.observe(.notificationPending(job.id, kind: kind, error: ExportError.wrapping(error)))
            throw error
        }
        context.observer.observe(.notified(job.id, kind: kind))
        try await markNotified(job.id)
    }

    func notification(_ kind: NotificationKind, for job: ExportJob, link: DownloadLink?) async throws -> ExportNotification {
        if kind == .ready {
            guard let result = job.result else { throw ExportError(.corruptData, "job \(job.id) succeeded without a result") }
            let freshLink: DownloadLink
            if let link { freshLink = link } else { freshLink = try await self.link(to: result, of: job) }
            return ExportNotification(
                jobID: job.id, owner: job.owner, recipient: job.recipient,
                content: .ready(.init(link: freshLink.url, expiresAt: freshLink.expiresAt, rows: result.rows, bytes: result.bytes, format: result.format,
                        scheduleName: job.scheduledRun?.scheduleName, range: job.options.range)))
        }
        return ExportNotification(
            jobID: job.id, owner: job.owner, recipient: job.recipient,
            content: .failed(reason: job.failure?.userFacingReason ?? ExportFailure.userFacingReason(forCode: "internal")))
    }

    /// A link for a late "ready" message: the configured lifetime, never past the file's expiry.
    private func link(to result: ExportResult, of job: ExportJob) async throws -> DownloadLink {
        let now = context.now()
        let lifetime = context.settings.linkLifetime
        let remaining = (job.expiresAt ?? now.adding(lifetime)).timeIntervalSince(now)
        let milliseconds = JobLifecycle.milliseconds(max(0.001, remaining), rounding: .up)
        return try await context.blobStore.downloadLink(
            for: result.blobKey, filename: ExportService.filename(for: job), expiresIn: min(lifetime, .milliseconds(milliseconds)))
    }

    func markNotified(_ id: JobID) async throws {
        let now = context.now()
        try await context.jobStore.modify(id) { job throws(ExportError) in
            guard !job.lifecycle.notified else { return false }
            try job.lifecycle.markNotified()
            job.stamp(now: now, retention: nil)
            return true
        }
    }
}
