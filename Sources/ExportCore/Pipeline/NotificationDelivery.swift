import Foundation

/// The last step of a job's handling: the one "ready" or "failed" message, recorded on the job, then
/// the message's acknowledgement or dead-lettering. The ``Reconciler`` uses the same step, without a
/// message, for jobs whose notification is still pending after an outage.
///
/// The notifier's idempotency key (the job id, the kind and, after a retry of a failed job, the retry
/// number) makes a repeated send after a crash the same message, so the user hears once however often
/// this step runs.
struct NotificationDelivery: Sendable {
    /// How a worker keeps its message's lease while it finishes (sends, then acknowledges or
    /// dead-letters): the same heartbeat as the export's, on the queue lease alone.
    struct KeepAlive: Sendable {
        let visibilityTimeout: Duration
        let interval: Duration
        /// What the heartbeat sleeps on: the worker's timer, shared with its exports' heartbeats.
        let timer: SharedTimer
    }

    let ports: ExportPorts
    var keepAlive: KeepAlive?

    /// Sends the missing notification (idempotently), disposes of the message, then records the
    /// notification on the job.
    ///
    /// The message goes before the record: a crash between the two leaves a job whose notification is
    /// not recorded and no message, which the ``Reconciler`` finds and completes (the send is repeated
    /// under the same idempotency key). The other order could leave a failed job's message to come back
    /// as an already notified duplicate and be acknowledged, with no dead letter for the failed job.
    /// With an ``AcknowledgingJobStore`` that can for this queue, the acknowledgement and the record of
    /// a sent notification are one step, so neither crash window exists.
    ///
    /// A send that fails is recorded on the job (``ExportJob/notificationFailure``) and reported as
    /// ``ExportEvent/Name/notificationPending``; a retryable failure is rethrown so the message comes
    /// back (``ExportAttempt/process()`` bounds that), a permanent one disposes of the message at once and
    /// leaves the job to the ``Reconciler``, which tries again at each pass until the cause is fixed.
    func finish(
        _ job: ExportJob,
        notify: NotificationKind?,
        link: DownloadLink?,
        disposal: JobLifecycle.MessageDisposal,
        delivery: Delivery
    ) async throws {
        // A store that keeps the queue's messages beside its jobs acknowledges with the record, in one
        // step (see `markNotified(_:acknowledging:with:)`), when there is a record to make.
        let folding = disposal == .acknowledge ? ports.jobStore as? any AcknowledgingJobStore : nil
        let sent = try await keepingLease(of: delivery) { leaseEnd in
            // A "ready" e-mail for an export whose file has expired (a dead letter redriven late) would
            // carry a dead link: say nothing; the status route tells the user it expired.
            var sent = false
            if let kind = notify, !(kind == .ready && job.expiredAt != nil) {
                let lease = NotificationLease(messageID: delivery.id.rawValue, receiveCount: delivery.receiveCount, expiresAt: leaseEnd)
                do {
                    try await send(kind, for: job, link: link, lease: lease)
                    sent = true
                } catch where ExportError.isRetryable(error) {
                    throw error
                } catch {
                    // Recorded by `send`; the Reconciler sends it once the cause is fixed.
                }
            }
            switch disposal {
            case .acknowledge:
                if sent, folding != nil, !job.lifecycle.notified { return sent }  // acknowledged with the record
                try await ports.queue.acknowledge(delivery.receipt)
            case .deadLetter(let reason):
                try await ports.queue.deadLetter(delivery.receipt, reason: job.failure?.reason ?? reason)
            }
            return sent
        }
        guard sent else { return }
        if let folding, !job.lifecycle.notified {
            try await markNotified(job, acknowledging: delivery.receipt, with: folding)
        } else {
            try await markNotified(job)
        }
    }

    /// Runs `body` while a heartbeat renews the message's queue lease every
    /// ``KeepAlive/interval`` (when the delivery has a ``keepAlive``), so a slow notifier, or a wait on
    /// another sender's reservation, never lets the message come back to another worker mid-send.
    /// `body` gets the lease's end as known when it starts.
    private func keepingLease<T: Sendable>(of delivery: Delivery, _ body: (Date) async throws -> T) async throws -> T {
        guard let keepAlive else { return try await body(delivery.leaseExpiresAt) }
        var leaseEnd = delivery.leaseExpiresAt
        // Too little of the lease left for a send: renew it first.
        if leaseEnd.timeIntervalSince(ports.clock.now()) < JobLifecycle.seconds(keepAlive.interval) {
            leaseEnd = try await ports.queue.extendLease(delivery.receipt, by: keepAlive.visibilityTimeout)
        }
        let start = leaseEnd
        let queue = ports.queue
        let observer = ports.observer
        // The body runs in this task, the heartbeat beside it; the heartbeat only ends by a lost lease or
        // by the cancellation that follows the body's end.
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    try await keepAlive.timer.sleep(for: keepAlive.interval)
                    do {
                        _ = try await queue.extendLease(delivery.receipt, by: keepAlive.visibilityTimeout)
                    } catch {
                        // The finishing step still completes; the ledger's fencing stops a second send.
                        observer.observe(.fault(.heartbeatMissed, error, jobID: delivery.message.jobID))
                        if (error as? ExportError)?.code == .leaseLost { return }
                    }
                }
            }
            defer { group.cancelAll() }  // stops the heartbeat; the group waits for it before returning
            return try await body(start)
        }
    }

    /// Sends one notification; a failure to send is recorded on the job, reaches the observer as
    /// ``ExportEvent/Name/notificationPending`` and is rethrown. Does not record the success: the caller
    /// calls ``markNotified(_:)``.
    func send(_ kind: NotificationKind, for job: ExportJob, link: DownloadLink?, lease: NotificationLease? = nil) async throws {
        do {
            var message = try await notification(kind, for: job, link: link)
            message.lease = lease
            try await ports.notifier.send(message)
        } catch {
            let failure = ExportError.wrapping(error)
            ports.observer.observe(.notificationPending(job.id, kind: kind, error: failure))
            await recordPending(job.id, failure)
            throw error
        }
        ports.observer.observe(.notified(job.id, kind: kind))
    }

    /// Sends and records one notification: the ``Reconciler``'s repair of a pending one.
    func deliver(_ kind: NotificationKind, for job: ExportJob) async throws {
        try await send(kind, for: job, link: nil)
        try await markNotified(job)
    }

    func notification(_ kind: NotificationKind, for job: ExportJob, link: DownloadLink?) async throws -> ExportNotification {
        let key = job.lifecycle.retries == 0 ? nil : "\(job.id).\(kind.rawValue).\(job.lifecycle.retries)"
        if kind == .ready {
            guard let result = job.result else { throw ExportError(.corruptData, "job \(job.id) succeeded without a result") }
            let freshLink: DownloadLink
            if let link { freshLink = link } else { freshLink = try await self.link(to: result, of: job) }
            return ExportNotification(
                jobID: job.id, owner: job.owner, recipient: job.recipient,
                content: .ready(.init(link: freshLink.url, expiresAt: freshLink.expiresAt, rows: result.rows, bytes: result.bytes, format: result.format,
                        scheduleName: job.scheduledRun?.scheduleName, range: job.options.range)),
                idempotencyKey: key)
        }
        return ExportNotification(
            jobID: job.id, owner: job.owner, recipient: job.recipient,
            content: .failed(reason: job.failure?.userFacingReason ?? ExportFailure.userFacingReason(forCode: "internal")),
            idempotencyKey: key)
    }

    /// A link for a late "ready" message: the stable address, or a direct link of the configured
    /// lifetime, never past the file's expiry.
    private func link(to result: ExportResult, of job: ExportJob) async throws -> DownloadLink {
        let now = ports.clock.now()
        if let stable = ports.settings.stableLink(for: job.id, fileExpiresAt: job.expiresAt ?? now.adding(ports.settings.retention)) {
            return stable
        }
        let lifetime = ports.settings.linkLifetime
        let remaining = (job.expiresAt ?? now.adding(lifetime)).timeIntervalSince(now)
        let milliseconds = JobLifecycle.milliseconds(max(0.001, remaining), rounding: .up)
        return try await ports.blobStore.downloadLink(
            for: result.blobKey, filename: ExportService.filename(for: job), expiresIn: min(lifetime, .milliseconds(milliseconds)))
    }

    func markNotified(_ job: ExportJob) async throws {
        let now = ports.clock.now()
        // From the caller's copy (usually the version it just stored), so a tiny job's last step costs
        // one write and no read; a copy that is no longer current is read again.
        try await ports.jobStore.modify(startingFrom: job) { job throws(ExportError) in
            try Self.recordNotified(&job, now: now)
        }
    }

    /// Records the notification and acknowledges the message in one step of `store`, from the
    /// caller's copy of the job, through ``JobStore/modify(startingFrom:attempts:_:)``'s retries (a copy
    /// that is no longer current is read again). When the store cannot for this queue, the message is
    /// acknowledged first and the record made after, as ``finish(_:notify:link:disposal:delivery:)``
    /// does without such a store; when the job is gone or already recorded, it is only acknowledged. A
    /// lost lease changes nothing and is thrown: the message comes back and the send is repeated under
    /// the same idempotency key.
    private func markNotified(_ job: ExportJob, acknowledging receipt: LeaseReceipt, with store: any AcknowledgingJobStore) async throws {
        let now = ports.clock.now()
        let ports = ports
        var acknowledged = false
        try await ports.jobStore.modify(
            startingFrom: job, attempts: 8,
            storing: { changed in
                if !acknowledged, let stored = try await store.update(changed, acknowledging: receipt, on: ports.queue) {
                    acknowledged = true
                    return stored
                }
                if !acknowledged {
                    try await ports.queue.acknowledge(receipt)
                    acknowledged = true
                }
                return try await ports.jobStore.update(changed)
            }
        ) { job throws(ExportError) in
            try Self.recordNotified(&job, now: now)
        }
        if !acknowledged { try await ports.queue.acknowledge(receipt) }
    }

    /// The change that records a sent notification; `false` when it is already recorded.
    private static func recordNotified(_ job: inout ExportJob, now: Date) throws(ExportError) -> Bool {
        guard !job.lifecycle.notified else { return false }
        try job.lifecycle.markNotified()
        job.notificationFailure = nil
        job.stamp(now: now, retention: nil)
        return true
    }

    /// Records why the notification is pending, best effort (the store may be what fails); a failure
    /// to record reaches the observer as ``ExportEvent/Name/cleanupFailed``. Leaves ``ExportJob/updatedAt``
    /// alone, so the ``Reconciler``'s schedule for the job does not move.
    private func recordPending(_ id: JobID, _ error: ExportError) async {
        let failure = ExportFailure(code: error.code.description, reason: error.message)
        do {
            try await ports.jobStore.modify(id) { job throws(ExportError) in
                guard job.state.isTerminal, !job.lifecycle.notified, job.notificationFailure != failure else { return false }
                job.notificationFailure = failure
                return true
            }
        } catch {
            ports.observer.observe(.fault(.cleanupFailed, error, jobID: id))
        }
    }
}
