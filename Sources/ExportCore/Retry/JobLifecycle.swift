import Foundation

/// The job lifecycle state machine: a pure value with one method per event.
///
/// Each event method checks that the event is legal in the current state, moves to the next state, and
/// returns the action the caller must carry out (run the export, redeliver later, notify, dead-letter…).
/// It performs no I/O and reads no clock: `now` and the random source are parameters. Illegal events
/// throw ``ExportError/Code/illegalTransition`` and leave the value unchanged.
///
/// The machine also guards the guarantees that survive crashes: a job held under a live lease is never
/// run twice (``claim(now:lease:maxInterruptions:message:)`` answers ``ClaimAction/redeliverLater(after:)``), a job
/// whose worker died is taken over once the lease has run out, and a finished job whose notification
/// was not confirmed is notified on redelivery, never re-run.
public struct JobLifecycle: Hashable, Sendable, Codable {
    /// The current state.
    public private(set) var state: JobState = .queued
    /// The number of attempts started so far: the run number, which names each attempt's file and
    /// fences its writes. Interrupted and deferred attempts are counted here too; the budget counts
    /// only ``failures``.
    public private(set) var attempt: Int = 0
    /// Attempts that failed with an export error and spent the ``RetryPolicy/maxAttempts`` budget.
    /// Interruptions and environmental faults within their own budgets are not counted here.
    public private(set) var failures: Int = 0
    /// Attempts taken over after their worker lost the lease (killed, stalled) since the last checkpoint
    /// (``recordProgress()``): bounded by ``RetryPolicy/maxInterruptions``, separately from ``failures``, so crashes are not the user's
    /// failure while a message that kills every worker still ends.
    public private(set) var interruptions: Int = 0
    /// Attempts that failed with an environmental fault (``ExportError/Code/isEnvironmental``) and were
    /// retried within ``RetryPolicy/environmentalBudget`` without spending an attempt.
    public private(set) var deferrals: Int = 0
    /// When the current run of environmental faults began; `nil` when the last attempt did not end
    /// with one.
    public private(set) var environmentalSince: Date?
    /// How many times the job was retried after it had failed (``retryFailed()``); part of the
    /// notification's idempotency key, so each retry's outcome is told once.
    public private(set) var retries: Int = 0
    /// While running: when the current worker's lease on the job runs out unless extended.
    public private(set) var leaseExpiresAt: Date?
    /// While running: the queue message whose delivery runs the job, when the claim named it. Another
    /// message for the job meanwhile is a duplicate (a reconciler's requeue on a queue that cannot see
    /// its messages) and is discarded at once instead of bouncing until the job ends.
    public private(set) var holderMessage: String?
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

    // MARK: Events

    /// A worker received the job's message.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - lease: How long the worker's lease on the job lasts before it must be extended.
    ///   - maxInterruptions: The most takeovers of a job whose worker lost its lease (from the
    ///     ``RetryPolicy``); the next one fails the job.
    ///   - message: The id of the queue message being handled, if known: recorded as the
    ///     ``holderMessage`` of the run it starts, and compared with it to spot duplicates.
    /// - Returns: What the worker must do. Every state has an answer, so this never throws.
    public mutating func claim(now: Date, lease: Duration, maxInterruptions: Int, message: String? = nil) -> ClaimAction {
        switch state {
        case .queued where cancelRequested, .retryScheduled where cancelRequested:
            // A cancel request recorded while running outlives a hand-back: honour it, never run again.
            state = .cancelled
            nextAttemptAt = nil
            return .finish(notify: nil, disposal: .acknowledge)
        case .queued:
            return start(now: now, lease: lease, message: message)
        case .retryScheduled:
            if let due = nextAttemptAt, due > now { return .redeliverLater(after: Self.duration(from: now, to: due)) }
            return start(now: now, lease: lease, message: message)
        case .running:
            if let expiry = leaseExpiresAt, expiry > now {
                if let message, let holderMessage, message != holderMessage { return .discardDuplicate }
                return .redeliverLater(after: Self.duration(from: now, to: expiry))
            }
            // The previous worker lost its lease: it died or stalled. Take over, or end the job.
            if cancelRequested {
                state = .cancelled
                leaseExpiresAt = nil
                return .finish(notify: nil, disposal: .acknowledge)
            }
            guard interruptions < maxInterruptions else {
                state = .failed
                leaseExpiresAt = nil
                return .finish(
                    notify: .failed, disposal: .deadLetter(reason: "interrupted \(interruptions + 1) times (the limit is \(maxInterruptions))"))
            }
            interruptions += 1
            return start(now: now, lease: lease, message: message)
        case .succeeded:
            return .finish(notify: notified ? nil : .ready, disposal: .acknowledge)
        case .failed:
            // Not notified: the worker that failed the job stopped before it dead-lettered the message
            // and recorded the e-mail (it does both in that order), or a dead letter was redriven: send,
            // and dead-letter this message. Notified: a duplicate; the dead letter exists already.
            return notified ? .finish(notify: nil, disposal: .acknowledge) : .finish(notify: .failed, disposal: .deadLetter(reason: "export failed"))
        case .cancelled:
            return .finish(notify: nil, disposal: .acknowledge)
        }
    }

    private mutating func start(now: Date, lease: Duration, message: String?) -> ClaimAction {
        state = .running
        holderMessage = message
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
    /// An environmental fault (a full disk, an unreachable service: `environmental`) is retried with
    /// the policy's capped environmental backoff without spending an attempt, for as long as the run of
    /// such faults lasts less than ``RetryPolicy/environmentalBudget``; after that it counts like any
    /// retryable error.
    ///
    /// - Parameters:
    ///   - retryable: Whether the error allows a retry.
    ///   - environmental: Whether the error is an environmental fault that heals by waiting.
    ///   - reason: What went wrong, for the person reading the status or the e-mail.
    ///   - policy: The retry policy.
    ///   - now: The current time.
    ///   - generator: The random source for the backoff jitter.
    /// - Returns: Retry after a delay, give up, or (when a cancel was requested) ``FailureAction/cancelled``.
    /// - Throws: ``ExportError/Code/illegalTransition`` unless running.
    public mutating func fail(
        retryable: Bool,
        environmental: Bool = false,
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
        if retryable, environmental {
            let since = environmentalSince ?? now
            if now.timeIntervalSince(since) < Self.seconds(policy.environmentalBudget) {
                environmentalSince = since
                deferrals += 1
                let delay = policy.environmentalDelay(afterDeferral: deferrals, using: &generator)
                state = .retryScheduled
                nextAttemptAt = now.addingTimeInterval(Self.seconds(delay))
                return .retry(after: delay)
            }
        } else {
            environmentalSince = nil
        }
        failures += 1
        switch policy.decide(afterAttempt: failures, retryable: retryable, previousDelay: lastRetryDelay, using: &generator) {
        case .retry(let delay):
            state = .retryScheduled
            lastRetryDelay = delay
            nextAttemptAt = now.addingTimeInterval(Self.seconds(delay))
            return .retry(after: delay)
        case .giveUp(let why):
            state = .failed
            return .giveUp(reason: "\(reason) (\(why.rawValue) after attempt \(failures) of \(policy.maxAttempts))")
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

    /// The running attempt reached a checkpoint: takeovers are counted afresh from here, so
    /// ``RetryPolicy/maxInterruptions`` bounds takeovers in a row without progress. A long export on
    /// workers that restart often still ends; a job that kills its worker before each next checkpoint
    /// still fails after the limit.
    ///
    /// - Throws: ``ExportError/Code/illegalTransition`` unless running.
    public mutating func recordProgress() throws(ExportError) {
        try require(.running, for: "record progress")
        interruptions = 0
    }

    /// Someone asked to run a failed job again: it is queued with a fresh budget (no failures,
    /// interruptions or deferrals counted), and its outcome will be told again.
    ///
    /// - Throws: ``ExportError/Code/illegalTransition`` unless failed.
    public mutating func retryFailed() throws(ExportError) {
        try require(.failed, for: "retry")
        state = .queued
        failures = 0
        interruptions = 0
        deferrals = 0
        environmentalSince = nil
        lastRetryDelay = nil
        nextAttemptAt = nil
        leaseExpiresAt = nil
        notified = false
        retries += 1
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

    // MARK: Coding

    private enum CodingKeys: String, CodingKey {
        case state, attempt, failures, interruptions, deferrals, environmentalSince, retries
        case leaseExpiresAt, holderMessage, nextAttemptAt, lastRetryDelay, cancelRequested, notified
    }

    /// Decodes a lifecycle; records written before ``failures`` existed count every started attempt
    /// as spent (the old rule), and have no interruptions, deferrals or retries.
    ///
    /// - Parameters:
    ///   - decoder: The decoder.
    /// - Throws: A decoding error.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        state = try container.decode(JobState.self, forKey: .state)
        attempt = try container.decode(Int.self, forKey: .attempt)
        failures = try container.decodeIfPresent(Int.self, forKey: .failures) ?? attempt
        interruptions = try container.decodeIfPresent(Int.self, forKey: .interruptions) ?? 0
        deferrals = try container.decodeIfPresent(Int.self, forKey: .deferrals) ?? 0
        environmentalSince = try container.decodeIfPresent(Date.self, forKey: .environmentalSince)
        retries = try container.decodeIfPresent(Int.self, forKey: .retries) ?? 0
        leaseExpiresAt = try container.decodeIfPresent(Date.self, forKey: .leaseExpiresAt)
        holderMessage = try container.decodeIfPresent(String.self, forKey: .holderMessage)
        nextAttemptAt = try container.decodeIfPresent(Date.self, forKey: .nextAttemptAt)
        lastRetryDelay = try container.decodeIfPresent(Duration.self, forKey: .lastRetryDelay)
        cancelRequested = try container.decode(Bool.self, forKey: .cancelRequested)
        notified = try container.decode(Bool.self, forKey: .notified)
    }

    /// Encodes the lifecycle.
    ///
    /// - Parameters:
    ///   - encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(state, forKey: .state)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(failures, forKey: .failures)
        try container.encode(interruptions, forKey: .interruptions)
        try container.encode(deferrals, forKey: .deferrals)
        try container.encodeIfPresent(environmentalSince, forKey: .environmentalSince)
        try container.encode(retries, forKey: .retries)
        try container.encodeIfPresent(leaseExpiresAt, forKey: .leaseExpiresAt)
        try container.encodeIfPresent(holderMessage, forKey: .holderMessage)
        try container.encodeIfPresent(nextAttemptAt, forKey: .nextAttemptAt)
        try container.encodeIfPresent(lastRetryDelay, forKey: .lastRetryDelay)
        try container.encode(cancelRequested, forKey: .cancelRequested)
        try container.encode(notified, forKey: .notified)
    }

    // MARK: Helpers

    private func require(_ expected: JobState, for event: String) throws(ExportError) {
        guard state == expected else {
            throw ExportError(.illegalTransition, "cannot \(event) while \(state.rawValue)")
        }
    }
}
