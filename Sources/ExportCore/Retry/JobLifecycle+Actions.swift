/// The answers the lifecycle's transitions give the worker: what to do with a received message, with a
/// finished job's message, after a failed attempt, and after a cancel request.
extension JobLifecycle {
    /// What a worker does with a job it received from the queue.
    public enum ClaimAction: Hashable, Sendable {
        /// Run attempt number `attempt` (counted from 1) under the lease.
        case run(attempt: Int)
        /// Not now: another worker holds a live lease, or the retry is not yet due. Release the message
        /// so it comes back after the delay.
        case redeliverLater(after: Duration)
        /// A duplicate: another message's delivery runs the job under a live lease. Acknowledge this
        /// one; the holder's message stays, and comes back by itself if its worker dies.
        case discardDuplicate
        /// The job is finished: send `notify` if not nil (idempotently), record it, then dispose of the
        /// message as `disposal` says.
        case finish(notify: NotificationKind?, disposal: MessageDisposal)
    }

    /// What to do with a queue message once its job is finished.
    public enum MessageDisposal: Hashable, Sendable {
        /// Delete it.
        case acknowledge
        /// Move it to the dead-letter queue with the reason.
        case deadLetter(reason: String)
    }

    /// What happens after a failed attempt.
    public enum FailureAction: Hashable, Sendable {
        /// Release the message so it is redelivered after the delay.
        case retry(after: Duration)
        /// The job failed for good: notify the user, then dead-letter the message with the reason.
        case giveUp(reason: String)
        /// The user had asked to cancel: the job is cancelled, not retried. Discard the file and
        /// acknowledge the message.
        case cancelled
    }

    /// What a cancel request did.
    public enum CancelAction: Hashable, Sendable {
        /// The job was not running and is now cancelled.
        case cancelled
        /// The job is running; the worker stops at its next heartbeat and cleans up.
        case stopping
        /// The job had already been cancelled; nothing changed.
        case alreadyCancelled
    }
}
