import Foundation

extension ExportAttempt {
    /// Handles the delivery completely; never throws.
    ///
    /// A failure while handling it outside the export itself (the job store is down, the notifier
    /// refuses, the queue rejects an acknowledgement) releases the message with a backoff delay, so it
    /// is tried again. That is bounded: an error that is not retryable, or a failure once the message
    /// has had ``ExportWorker/Configuration/resolvedMaxDeliveries`` deliveries that did not start an
    /// attempt, dead-letters the message instead and ends a job that has not ended as failed (see
    /// ``giveUp(after:)``). Deliveries that started an attempt (interrupted ones, environmental
    /// deferrals) have budgets of their own in the job's lifecycle, so a crash storm or a long outage
    /// does not use this one up.
    func process() async {
        do {
            try await handle()
        } catch {
            let stopping = error is CancellationError || Task.isCancelled
            let spent = stopping ? 0 : await spentDeliveries()
            // An error that says when a retry can succeed (another sender holds the e-mail's reservation
            // until then) is a wait, not a failure: it does not use up the delivery bound.
            let waits = ExportError.isRetryable(error) && (error as? ExportError)?.retryAt != nil
            if !stopping, !waits, !ExportError.isRetryable(error) || spent >= configuration.resolvedMaxDeliveries {
                let gaveUp = await context.handOff(delivery.message.jobID) { try await giveUp(after: error) }
                if gaveUp { return }
            }
            // An error that says when a retry can succeed (another sender's reservation ends then, a
            // service's Retry-After) is retried then, within the policy's delays; any other with
            // backoff on the deliveries spent.
            let delay: Duration
            if let retryAt = (error as? ExportError)?.retryAt {
                let until = JobLifecycle.duration(from: context.now(), to: retryAt)
                delay = min(configuration.retryPolicy.maxDelay, max(configuration.retryPolicy.baseDelay, until))
            } else {
                delay = context.random.withGenerator {
                    configuration.retryPolicy.delay(afterAttempt: max(1, spent), using: &$0)
                }
            }
            let releaseDelay = stopping ? .zero : delay
            await context.handOff(delivery.message.jobID) {
                try await context.queue.release(receipt, delay: releaseDelay)
            }
        }
    }

    /// The deliveries of this message that did not start an attempt: its receive count less the job's
    /// attempts (each attempt began with a delivery). All of them when the job cannot be read.
    private func spentDeliveries() async -> Int {
        guard let job = try? await context.jobStore.get(delivery.message.jobID) else { return delivery.receiveCount }
        return max(1, delivery.receiveCount - job.attempt)
    }

    /// Ends the handling of a message that cannot be handled: marks a job that has not ended as failed
    /// (with a reason), tells the user if the notifier allows, and dead-letters the message.
    ///
    /// - Throws: ``ExportError/Code/leaseLost`` without touching anything when the job is not this
    ///   message's to end: another worker runs it under a live lease, or its retry is not yet due (this
    ///   is a duplicate, such as the Reconciler's re-queue, whose receive count grew while it waited).
    ///   The caller then releases the message as for any retryable failure.
    private func giveUp(after error: any Error) async throws {
        let exportError = ExportError.wrapping(error)
        let why = ExportError.isRetryable(error) ? "gave up after \(delivery.receiveCount) deliveries" : "not retryable"
        let reason = "\(exportError.message) (\(why))"
        // A corrupt or unreadable record cannot be marked; the dead letter still carries the reason.
        let current = try? await context.jobStore.get(delivery.message.jobID)
        if let current, current.state == .succeeded || current.state == .cancelled {
            // Only the notification or the acknowledgement was left, and the job's own record says what
            // is pending: the Reconciler completes it. A dead letter would count a succeeded job as failed.
            try await context.queue.acknowledge(receipt)
            return
        }
        var notifyFailed: ExportJob?
        if var job = current, !job.state.isTerminal {
            let now = context.now()
            if ExportWorker.isHeldElsewhere(job.lifecycle, now: now) {
                throw ExportError(.leaseLost, "job \(job.id) is another delivery's to finish")
            }
            let state = try job.abandon(
                ExportFailure(code: exportError.code.description, reason: reason), now: now, retention: context.settings.retention)
            let stored: ExportJob?
            do {
                stored = try await context.jobStore.update(job)
            } catch {
                // The message is dead-lettered below all the same, with the reason; the job stays as it was.
                observer.observe(.fault(.cleanupFailed, error, jobID: job.id))
                stored = nil
            }
            if let stored {
                await context.discardFiles(of: stored, keeping: nil)
                if state == .failed {
                    observer.observe(.failed(stored.id, attempt: stored.attempt, code: exportError.code, reason: reason))
                    notifyFailed = stored
                } else {
                    observer.observe(.cancelled(stored.id))
                }
            }
        }
        try await context.queue.deadLetter(receipt, reason: reason)
        observer.observe(.deadLettered(delivery.message.jobID, code: exportError.code, reason: reason))
        if let job = notifyFailed {
            // Best effort, after the dead letter (see `NotificationDelivery.finish`): the notifier may be
            // what keeps failing; `send` records and reports it, and the Reconciler tries again.
            let notifications = NotificationDelivery(ports: context.ports)
            if (try? await notifications.send(.failed, for: job, link: nil)) != nil {
                await context.handOff(job.id) { try await notifications.markNotified(job) }
            }
        }
    }
}

extension ExportWorker {
    /// Whether a job is being run, or waits for a retry, under another delivery's responsibility.
    static func isHeldElsewhere(_ lifecycle: JobLifecycle, now: Date) -> Bool {
        switch lifecycle.state {
        case .running: lifecycle.leaseExpiresAt.map { $0 > now } ?? false
        case .retryScheduled: lifecycle.nextAttemptAt.map { $0 > now } ?? false
        default: false
        }
    }
}
