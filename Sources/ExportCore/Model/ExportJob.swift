import Foundation

/// An export job: who asked, for what, and how far it got.
///
/// Jobs are values. A ``JobStore`` keeps them and bumps ``version`` on every update, which is how two
/// workers (or a worker and a cancelling user) never overwrite each other's changes: every update is a
/// compare-and-swap on the version read.
public struct ExportJob: Hashable, Sendable, Codable, Identifiable {
    /// The job's identifier.
    public var id: JobID
    /// The user who asked for the export; the only user who may see it.
    public var owner: UserID
    /// Where the "ready" and "failed" e-mails go.
    public var recipient: EmailAddress
    /// The format and the resolved column list.
    public var options: ExportOptions
    /// The lifecycle state machine: state, attempt, lease, cancellation, notification.
    public var lifecycle: JobLifecycle
    /// Rows written so far by the running (or last) attempt.
    public var rowsWritten: Int64
    /// The output, once succeeded.
    public var result: ExportResult?
    /// The reason, once failed (or the last retryable failure while retrying).
    public var failure: ExportFailure?
    /// Why the job's notification ("ready" or "failed") could not be sent yet, while it is pending;
    /// `nil` once sent or before the first try. The ``Reconciler`` keeps trying at every pass, so an
    /// outage however long, or a permanent error once its cause is fixed, still ends in one e-mail.
    public var notificationFailure: ExportFailure?
    /// Whether the job has ended and its notification is not confirmed as sent yet.
    public var notificationPending: Bool { state.isTerminal && !lifecycle.notified && state != .cancelled }
    /// When the job was requested.
    public var createdAt: Date
    /// When the job record last changed.
    public var updatedAt: Date
    /// When the job expires; set when the job ends. At that moment the ``Reconciler`` deletes its file
    /// and keeps the record as an expired tombstone (see ``expiredAt``), whose `expiresAt` it moves to
    /// when the record itself is deleted.
    public var expiresAt: Date?
    /// When the job expired: its file is gone, and the record is kept (until ``expiresAt``) only so the
    /// owner's status and download calls can say "expired" (410) instead of "not found". `nil` before.
    public var expiredAt: Date?
    /// A key that no other non-terminal job may hold at the same time (the service uses one per owner
    /// to de-duplicate active exports). Released by the store once the job is terminal.
    public var uniqueKey: String?
    /// The store's version, bumped on every successful update. Zero before the job is created.
    public var version: UInt64
    /// The schedule and occurrence this job runs, or `nil` for a job a user asked for.
    public var scheduledRun: ScheduledRun?
    /// How many rows the running (or last) attempt will write, when the source could tell
    /// (``MembershipSource/membershipCount(of:range:)``); `nil` otherwise.
    public var totalRows: Int64?
    /// When the running (or last) attempt started, for the rate and the estimated completion.
    public var attemptStartedAt: Date?
    /// Where the next attempt continues, while the job has not ended: the last checkpoint of an attempt
    /// that crashed, was handed back or failed with a retryable error. `nil` for a fresh job and once
    /// the job has ended (``stamp(now:retention:)`` clears it).
    public var checkpoint: ExportCheckpoint?

    /// Creates a queued job.
    ///
    /// - Parameters:
    ///   - id: The job's identifier.
    ///   - owner: The requesting user.
    ///   - recipient: Where e-mails go.
    ///   - options: The format and columns (columns resolved, not `nil`, for a job the worker runs).
    ///   - createdAt: When it was requested.
    ///   - uniqueKey: A key no other active job may hold, or `nil`.
    public init(
        id: JobID,
        owner: UserID,
        recipient: EmailAddress,
        options: ExportOptions,
        createdAt: Date,
        uniqueKey: String? = nil
    ) {
        self.id = id
        self.owner = owner
        self.recipient = recipient
        self.options = options
        self.lifecycle = JobLifecycle()
        self.rowsWritten = 0
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.uniqueKey = uniqueKey
        self.version = 0
    }

    /// The lifecycle state.
    public var state: JobState { lifecycle.state }

    /// The number of attempts started so far.
    public var attempt: Int { lifecycle.attempt }

    /// Records a change made at `now`: sets ``updatedAt`` and, when the job has reached a terminal
    /// state and `retention` is given, ``expiresAt`` (the end of its file's and record's life); a job that
    /// has ended loses its ``checkpoint``. Every
    /// place that moves a job on stamps it through this one method.
    ///
    /// - Parameters:
    ///   - now: The time of the change.
    ///   - retention: How long a terminal job is kept, or `nil` to leave ``expiresAt`` alone.
    public mutating func stamp(now: Date, retention: Duration?) {
        updatedAt = now
        if state.isTerminal { checkpoint = nil }
        if let retention, state.isTerminal { expiresAt = now.adding(retention) }
    }

    /// Ends the job as failed (through the lifecycle's `abandon`) or cancelled, when it had a cancel
    /// request, with `failure` recorded for a failed job, stamped at `now`.
    ///
    /// - Parameters:
    ///   - failure: Why it failed.
    ///   - now: The time of the change.
    ///   - retention: How long it is kept.
    /// - Returns: The state it ended in.
    /// - Throws: ``ExportError/Code/illegalTransition`` for a job that has already ended.
    @discardableResult
    public mutating func abandon(_ failure: ExportFailure, now: Date, retention: Duration) throws(ExportError) -> JobState {
        let state = try lifecycle.abandon()
        if state == .failed { self.failure = failure }
        stamp(now: now, retention: retention)
        return state
    }
}
