import Foundation

/// The job lifecycle state machine: a pure value with one method per event.
///
/// Each event method checks that the event is legal in the current state, moves to the next state, and
/// returns the action the caller must carry out (run the export, redeliver later, notify, dead-letter…).
/// It performs no I/O and reads no clock: `now` and the random source are parameters. Illegal events
/// throw ``ExportError/Code/illegalTransition`` and leave the value unchanged.
///
/// The machine also guards the guarantees that survive crashes: a job held under a live lease is never
/// run twice (``claim(now:lease:maxAttempts:)`` answers ``ClaimAction/redeliverLater(after:)``), a job
/// whose worker died is taken over once the lease has run out, and a finished job whose notification
/// was not confirmed is notified on redelivery, never re-run.
public struct JobLifecycle: Hashable, Sendable, Codable {
    /// The current state.
    public private(set) var state: JobState = .queued
    /// The number of attempts started so far.
    public private(set) var attempt: Int = 0
    /// While running: when the current worker's lease on the job runs out unless extended.
    public private(set) var leaseExpiresAt: Date?
    /// While a retry is scheduled: when the next attempt is due.
    public private(set) var nextAttemptAt: Date?
    /// The backoff delay used before the current retry, for decorrelated jitter.
    public private(set) var lastRetryDelay: Duration?
    /// Whether the user asked to cancel while the job was running.
    public private(set) var cancelRequested = false
    /// Whether the terminal notification ("ready" or "failed") is confirmed as sent.
    public private(set) var notified = false

    /// A new lifecycle, in ``JobState/queued``.
    public init() {}

    // MARK: Actions

    /// What a worker does with a job it received from the queue.
    public enum ClaimAction: Hashable, Sendable {
        /// Run attempt number `attempt` (counted from 1) under the lease.
        case run(attempt: Int)
        /// Not now: another worker holds a live lease, or the retry is not yet due. Release the message
        /// so it comes back after the delay.
        case redeliverLater(after: Duration)
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

    // MARK: Events

    /// A worker received the job's message.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - lease: How long the worker's lease on the job lasts before it must be extended.
    ///   - maxAttempts: The most attempts a job gets (from the ``RetryPolicy``).
    /// - Returns: What the worker must do. Every state has an answer, so this never throws.
    public mutating func claim(now: Date, lease: Duration, maxAttempts: Int) -> ClaimAction {
        switch state {
        case .queued where cancelRequested, .retryScheduled where cancelRequested:
            // A cancel request recorded while running outlives a hand-back: honour it, never run again.
            state = .cancelled
            nextAttemptAt = nil
            return .finish(notify: nil, disposal: .acknowledge)
        case .queued:
            return start(now: now, lease: lease, maxAttempts: maxAttempts)
        case .retryScheduled:
            if let due = nextAttemptAt, due > now { return .redeliverLater(after: Self.duration(from: now, to: due)) }
            return start(now: now, lease: lease, maxAttempts: maxAttempts)
        case .running:
            if let expiry = leaseExpiresAt, expiry > now {
                return .redeliverLater(after: Self.duration(from: now, to: expiry))
            }
            // The previous worker lost its lease: it died or stalled. Take over, or end the job.
            if cancelRequested {
                state = .cancelled
                leaseExpiresAt = nil
                return .finish(notify: nil, disposal: .acknowledge)
            }
            return start(now: now, lease: lease, maxAttempts: maxAttempts)
        case .succeeded:
            return .finish(notify: notified ? nil : .ready, disposal: .acknowledge)
        case .failed:
            return .finish(notify: notified ? nil : .failed, disposal: .deadLetter(reason: "export failed"))
        case .cancelled:
            return .finish(notify: nil, disposal: .acknowledge)
        }
    }

    private mutating func start(now: Date, lease: Duration, maxAttempts: Int) -> ClaimAction {
        guard attempt < maxAttempts else {
            state = .failed
            leaseExpiresAt = nil
            nextAttemptAt = nil
            return .finish(notify: .failed, disposal: .deadLetter(reason: "attempts exhausted (\(attempt) of \(maxAttempts))"))
        }
        state = .running
        attempt += 1
        nextAttemptAt = nil
        leaseExpiresAt = now.addingTimeInterval(Self.seconds(lease))
        return .run(attempt: attempt)
    }

    /// The running worker extends its lease (a heartbeat).
    ///
    /// - Parameters:
    ///   - date: The new lease expiry.
    /// - Throws: ``ExportError/Code/illegalTransition`` unless running.
    public mutating func extendLease(until date: Date) throws(ExportError) {
        try require(.running, for: "extend the lease")
        leaseExpiresAt = date
    }

    /// The running attempt stored the file.
    ///
    /// - Throws: ``ExportError/Code/illegalTransition`` unless running, and
    ///   ``ExportError/Code/cancelled`` when the user cancelled meanwhile: the caller must discard the
    ///   file and call ``confirmCancelled()`` instead.
    public mutating func succeed() throws(ExportError) {
        try require(.running, for: "succeed")
        guard !cancelRequested else { throw ExportError(.cancelled, "the export was cancelled while it ran") }
        state = .succeeded
        leaseExpiresAt = nil
    }

    /// The running attempt failed.
    ///
    /// - Parameters:
    ///   - retryable: Whether the error allows a retry.
    ///   - reason: What went wrong, for the person reading the status or the e-mail.
    ///   - policy: The retry policy.
    ///   - now: The current time.
    ///   - generator: The random source for the backoff jitter.
    /// - Returns: Retry after a delay, give up, or (when a cancel was requested) ``FailureAction/cancelled``.
    /// - Throws: ``ExportError/Code/illegalTransition`` unless running.
    public mutating func fail(
        retryable: Bool,
        reason: String,
        policy: RetryPolicy,
        now: Date,
        using generator: inout some RandomNumberGenerator
    ) throws(ExportError) -> FailureAction {
        try require(.running, for: "fail")
        leaseExpiresAt = nil
        if cancelRequested {
            state = .cancelled
            return .cancelled
        }
        switch policy.decide(afterAttempt: attempt, retryable: retryable, previousDelay: lastRetryDelay, using: &generator) {
        case .retry(let delay):
            state = .retryScheduled
            lastRetryDelay = delay
            nextAttemptAt = now.addingTimeInterval(Self.seconds(delay))
            return .retry(after: delay)
        case .giveUp(let why):
            state = .failed
            return .giveUp(reason: "\(reason) (\(why.rawValue) after attempt \(attempt) of \(policy.maxAttempts))")
        }
    }

    /// The worker stops without finishing (graceful shutdown): the attempt is handed back, not counted.
    ///
    /// A job whose cancellation was requested is not handed back but cancelled: the request must not be
    /// forgotten and the export run again later.
    ///
    /// - Returns: The new state: ``JobState/queued``, or ``JobState/cancelled`` after a cancel request.
    /// - Throws: ``ExportError/Code/illegalTransition`` unless running.
    @discardableResult
    public mutating func relinquish() throws(ExportError) -> JobState {
        try require(.running, for: "relinquish")
        leaseExpiresAt = nil
        if cancelRequested {
            state = .cancelled
            return state
        }
        state = .queued
        attempt -= 1
        return state
    }

    /// The worker gives up on a job that has not ended because handling its message keeps failing
    /// (or failed for good) outside the export itself: a notifier that refuses, a corrupt neighbour
    /// record, a queue that rejects the message. The job must still end in a state a person can read.
    ///
    /// - Returns: The new state: ``JobState/failed``, or ``JobState/cancelled`` after a cancel request.
    /// - Throws: ``ExportError/Code/illegalTransition`` once the job has ended.
    @discardableResult
    public mutating func abandon() throws(ExportError) -> JobState {
        guard !state.isTerminal else {
            throw ExportError(.illegalTransition, "cannot abandon a job that already \(state.rawValue)")
        }
        state = cancelRequested ? .cancelled : .failed
        leaseExpiresAt = nil
        nextAttemptAt = nil
        return state
    }

    /// The owner asked to cancel.
    ///
    /// - Returns: Whether the job is cancelled now, will stop soon, or already was.
    /// - Throws: ``ExportError/Code/illegalTransition`` once it succeeded or failed.
    public mutating func requestCancel() throws(ExportError) -> CancelAction {
        switch state {
        case .queued, .retryScheduled:
            state = .cancelled
            nextAttemptAt = nil
            return .cancelled
        case .running:
            if cancelRequested { return .stopping }
            cancelRequested = true
            return .stopping
        case .cancelled:
            return .alreadyCancelled
        case .succeeded, .failed:
            throw ExportError(.illegalTransition, "the export already \(state.rawValue) and can no longer be cancelled")
        }
    }

    /// The running worker saw the cancel request, stopped and removed its partial file.
    ///
    /// - Throws: ``ExportError/Code/illegalTransition`` unless running with a cancel request.
    public mutating func confirmCancelled() throws(ExportError) {
        try require(.running, for: "confirm cancellation")
        guard cancelRequested else { throw ExportError(.illegalTransition, "no cancellation was requested") }
        state = .cancelled
        leaseExpiresAt = nil
    }

    /// The terminal notification was sent.
    ///
    /// - Throws: ``ExportError/Code/illegalTransition`` unless succeeded or failed.
    public mutating func markNotified() throws(ExportError) {
        guard state == .succeeded || state == .failed else {
            throw ExportError(.illegalTransition, "cannot record a notification while \(state.rawValue)")
        }
        notified = true
    }

    // MARK: Helpers

    private func require(_ expected: JobState, for event: String) throws(ExportError) {
        guard state == expected else {
            throw ExportError(.illegalTransition, "cannot \(event) while \(state.rawValue)")
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    static func duration(from start: Date, to end: Date) -> Duration {
        .milliseconds(milliseconds(max(0, end.timeIntervalSince(start)), rounding: .up))
    }

    /// Whole milliseconds in `seconds`, clamped to `Int64`'s range instead of trapping (NaN counts as 0).
    static func milliseconds(_ seconds: TimeInterval, rounding rule: FloatingPointRoundingRule) -> Int64 {
        let value = (seconds * 1000).rounded(rule)
        guard !value.isNaN else { return 0 }
        if value >= 9.2e18 { return .max }
        if value <= -9.2e18 { return .min }
        return Int64(value)
    }
}

/// Which terminal notification a job needs.
public struct NotificationKind: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The stable name, such as `ready`.
    public let rawValue: String

    /// Wraps a stable name.
    ///
    /// - Parameters:
    ///   - rawValue: The name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// "Your export is ready", with the download link.
    public static let ready = NotificationKind(rawValue: "ready")
    /// "Your export failed", with the reason.
    public static let failed = NotificationKind(rawValue: "failed")

    /// The stable name.
    public var description: String { rawValue }

    /// Decodes the stable name.
    ///
    /// - Parameters:
    ///   - decoder: The decoder.
    /// - Throws: A decoding error for a value that is not a string.
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes the stable name.
    ///
    /// - Parameters:
    ///   - encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
