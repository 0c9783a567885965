import Foundation

/// Something that happened to an export or to the machinery that runs exports, with the codes, counts
/// and durations a host logs or measures.
///
/// An event is a struct, not an enum, so the library can add kinds of events without breaking a host's
/// `switch`: match on ``name`` (``Name`` has a static member per kind) and read the fields that kind
/// fills. Every error the pipeline catches and does not rethrow reaches the observer as an event with
/// its ``code``: receive failures, heartbeat misses, clean-up failures, failed reconcile passes,
/// corrupt files, rejected requests.
///
/// ```swift
/// switch event.name {
/// case .succeeded: metrics.record(event.duration)
/// case .receiveFailed, .reconcileFailed: logger.error("\(event)")
/// default: break
/// }
/// ```
public struct ExportEvent: Hashable, Sendable, CustomStringConvertible {
    /// The kind of an event: a stable dotted name such as `export.succeeded`, for logs and metric labels.
    public struct Name: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        /// The stable name.
        public let rawValue: String

        /// Wraps a name.
        ///
        /// - Parameters:
        ///   - rawValue: The stable name.
        public init(_ rawValue: String) { self.rawValue = rawValue }

        /// Wraps a literal name.
        ///
        /// - Parameters:
        ///   - value: The stable name.
        public init(stringLiteral value: String) { self.rawValue = value }

        /// The stable name.
        public var description: String { rawValue }

        /// A request was accepted and the job queued (``ExportEvent/owner``, ``ExportEvent/format``).
        public static let accepted: Name = "export.accepted"
        /// A request returned the owner's active export instead of starting another.
        public static let deduplicated: Name = "export.deduplicated"
        /// A request was refused (``ExportEvent/code``: bad input, rate limit, a port's error).
        public static let rejected: Name = "export.rejected"
        /// A worker started an attempt (``ExportEvent/attempt``; ``ExportEvent/duration`` is the wait since the request).
        public static let started: Name = "export.started"
        /// The running attempt has written ``ExportEvent/rows`` rows so far.
        public static let progress: Name = "export.progress"
        /// The file is stored (``ExportEvent/rows``, ``ExportEvent/bytes``, ``ExportEvent/duration``).
        public static let succeeded: Name = "export.succeeded"
        /// An attempt failed with ``ExportEvent/code`` and is retried after ``ExportEvent/delay``.
        public static let retried: Name = "export.retried"
        /// An attempt was interrupted (its worker stopped or lost the lease); it runs again and does not
        /// count against the job's attempts.
        public static let interrupted: Name = "export.interrupted"
        /// The export failed for good (``ExportEvent/code``, ``ExportEvent/message``).
        public static let failed: Name = "export.failed"
        /// The user was sent the ``ExportEvent/notification`` message.
        public static let notified: Name = "export.notified"
        /// Telling the user failed with ``ExportEvent/code``; it is tried again later (the job's
        /// status says "notification pending" meanwhile).
        public static let notificationPending: Name = "export.notificationPending"
        /// The job's message was dead-lettered for a person to look at (``ExportEvent/code``).
        public static let deadLettered: Name = "export.deadLettered"
        /// A worker received a second message for a job that another delivery runs under a live lease
        /// (a reconciler's requeue on a queue that cannot see its messages), and acknowledged it.
        public static let duplicateDiscarded: Name = "export.duplicateDiscarded"
        /// The export was cancelled.
        public static let cancelled: Name = "export.cancelled"
        /// The reconciler queued a job again that had been stuck or never queued (``ExportEvent/state``).
        public static let requeued: Name = "export.requeued"
        /// The job's files were deleted at the end of its retention; its record stays as a tombstone.
        public static let expired: Name = "export.expired"
        /// Its owner deleted a finished job: its files are gone, its record is a tombstone.
        public static let deleted: Name = "export.deleted"
        /// An expired job's tombstone was deleted.
        public static let purged: Name = "export.purged"
        /// A running worker handed its job back to the queue on shutdown.
        public static let handedBack: Name = "export.handedBack"
        /// An attempt continued from the checkpoint an earlier attempt left; ``ExportEvent/rows`` is where it went on.
        public static let resumed: Name = "export.resumed"
        /// Receiving from the queue failed with ``ExportEvent/code``; the worker waits and tries again,
        /// or stops when the fault cannot heal by waiting.
        public static let receiveFailed: Name = "worker.receiveFailed"
        /// A heartbeat could not renew the leases (``ExportEvent/code``); the export goes on while the
        /// lease lasts.
        public static let heartbeatMissed: Name = "worker.heartbeatMissed"
        /// Best-effort clean-up (deleting a file, releasing a message) failed with ``ExportEvent/code``.
        public static let cleanupFailed: Name = "worker.cleanupFailed"
        /// A reconcile pass, or part of one, failed with ``ExportEvent/code``.
        public static let reconcileFailed: Name = "reconciler.failed"
        /// A stored record could not be read and was set aside (``ExportEvent/path``, ``ExportEvent/message``).
        public static let corruptRecord: Name = "storage.corruptRecord"
        /// A worker or reconciler stopped: after a fault that cannot heal by waiting (``ExportEvent/code``),
        /// or on shutdown (no code).
        public static let stopped: Name = "worker.stopped"
    }

    /// What happened.
    public var name: Name
    /// The job the event is about, if any.
    public var jobID: JobID?
    /// The job's owner, where known.
    public var owner: UserID?
    /// The attempt number.
    public var attempt: Int?
    /// Rows written.
    public var rows: Int64?
    /// Bytes stored.
    public var bytes: Int64?
    /// How long it took (or, for ``Name/started``, how long the job waited).
    public var duration: Duration?
    /// The delay before the next try.
    public var delay: Duration?
    /// The error's code, for events about an error.
    public var code: ExportError.Code?
    /// A sentence for an operator (never shown to the job's owner).
    public var message: String?
    /// The job's state, where it matters.
    public var state: JobState?
    /// The export format.
    public var format: ExportFormat?
    /// Which message the user was sent.
    public var notification: NotificationKind?
    /// The path of a record, for storage events.
    public var path: String?
    /// The operator who acted, for operator events (``Name/operatorJobRetried`` and the others of
    /// ``ExportAdministration``).
    public var operatorID: OperatorID?

    /// Creates an event; prefer the static factories.
    ///
    /// - Parameters:
    ///   - name: What happened.
    ///   - jobID: The job, if any.
    public init(_ name: Name, jobID: JobID? = nil) {
        self.name = name
        self.jobID = jobID
    }

    /// One line for a log: the name, then every field that is set.
    public var description: String {
        var parts = [name.rawValue]
        if let jobID { parts.append("job=\(jobID)") }
        if let owner { parts.append("owner=\(owner)") }
        if let operatorID { parts.append("operator=\(operatorID)") }
        if let attempt { parts.append("attempt=\(attempt)") }
        if let state { parts.append("state=\(state.rawValue)") }
        if let rows { parts.append("rows=\(rows)") }
        if let bytes { parts.append("bytes=\(bytes)") }
        if let duration { parts.append("duration=\(duration)") }
        if let delay { parts.append("delay=\(delay)") }
        if let format { parts.append("format=\(format.identifier)") }
        if let notification { parts.append("notification=\(notification.rawValue)") }
        if let code { parts.append("code=\(code)") }
        if let path { parts.append("path=\(path)") }
        if let message { parts.append("message=\(String(reflecting: message))") }
        return parts.joined(separator: " ")
    }

    func with(_ change: (inout ExportEvent) -> Void) -> ExportEvent {
        var event = self
        change(&event)
        return event
    }

    /// ``Name/accepted``.
    public static func accepted(_ id: JobID, owner: UserID, format: ExportFormat) -> ExportEvent {
        ExportEvent(.accepted, jobID: id).with { $0.owner = owner; $0.format = format }
    }

    /// ``Name/deduplicated``.
    public static func deduplicated(_ id: JobID, owner: UserID) -> ExportEvent {
        ExportEvent(.deduplicated, jobID: id).with { $0.owner = owner }
    }

    /// ``Name/duplicateDiscarded``: a second message for a job another delivery runs, acknowledged.
    public static func duplicateDiscarded(_ id: JobID, message: MessageID) -> ExportEvent {
        ExportEvent(.duplicateDiscarded, jobID: id).with { $0.message = "message \(message)" }
    }

    /// ``Name/rejected``.
    public static func rejected(owner: UserID, error: ExportError) -> ExportEvent {
        ExportEvent(.rejected).with { $0.owner = owner; $0.code = error.code; $0.message = error.message }
    }

    /// ``Name/started``.
    public static func started(_ id: JobID, attempt: Int, waited: Duration) -> ExportEvent {
        ExportEvent(.started, jobID: id).with { $0.attempt = attempt; $0.duration = waited }
    }

    /// ``Name/progress``.
    public static func progress(_ id: JobID, rows: Int64) -> ExportEvent {
        ExportEvent(.progress, jobID: id).with { $0.rows = rows }
    }

    /// ``Name/succeeded``.
    public static func succeeded(_ id: JobID, attempt: Int, rows: Int64, bytes: Int64, duration: Duration) -> ExportEvent {
        ExportEvent(.succeeded, jobID: id).with {
            $0.attempt = attempt; $0.rows = rows; $0.bytes = bytes; $0.duration = duration
        }
    }

    /// ``Name/retried``.
    public static func retried(_ id: JobID, attempt: Int, delay: Duration, error: ExportError) -> ExportEvent {
        ExportEvent(.retried, jobID: id).with {
            $0.attempt = attempt; $0.delay = delay; $0.code = error.code; $0.message = error.message
        }
    }

    /// ``Name/interrupted``.
    public static func interrupted(_ id: JobID, attempt: Int, message: String) -> ExportEvent {
        ExportEvent(.interrupted, jobID: id).with { $0.attempt = attempt; $0.message = message }
    }

    /// ``Name/failed``.
    public static func failed(_ id: JobID, attempt: Int, code: ExportError.Code, reason: String) -> ExportEvent {
        ExportEvent(.failed, jobID: id).with { $0.attempt = attempt; $0.code = code; $0.message = reason }
    }

    /// ``Name/notified``.
    public static func notified(_ id: JobID, kind: NotificationKind) -> ExportEvent {
        ExportEvent(.notified, jobID: id).with { $0.notification = kind }
    }

    /// ``Name/notificationPending``.
    public static func notificationPending(_ id: JobID, kind: NotificationKind, error: ExportError) -> ExportEvent {
        ExportEvent(.notificationPending, jobID: id).with {
            $0.notification = kind; $0.code = error.code; $0.message = error.message
        }
    }

    /// ``Name/deadLettered``.
    public static func deadLettered(_ id: JobID, code: ExportError.Code, reason: String) -> ExportEvent {
        ExportEvent(.deadLettered, jobID: id).with { $0.code = code; $0.message = reason }
    }

    /// ``Name/cancelled``.
    public static func cancelled(_ id: JobID) -> ExportEvent { ExportEvent(.cancelled, jobID: id) }

    /// ``Name/requeued``.
    public static func requeued(_ id: JobID, state: JobState) -> ExportEvent {
        ExportEvent(.requeued, jobID: id).with { $0.state = state }
    }

    /// ``Name/expired``.
    public static func expired(_ id: JobID) -> ExportEvent { ExportEvent(.expired, jobID: id) }

    /// ``Name/deleted``.
    public static func deleted(_ id: JobID) -> ExportEvent { ExportEvent(.deleted, jobID: id) }

    /// ``Name/purged``.
    public static func purged(_ id: JobID) -> ExportEvent { ExportEvent(.purged, jobID: id) }

    /// ``Name/resumed``: an attempt continued from a checkpoint after `rows` rows.
    ///
    /// - Parameters:
    ///   - id: The job.
    ///   - attempt: The attempt that continued.
    ///   - rows: The rows the checkpoint covered.
    /// - Returns: The event.
    public static func resumed(_ id: JobID, attempt: Int, rows: Int64) -> ExportEvent {
        ExportEvent(.resumed, jobID: id).with {
            $0.attempt = attempt
            $0.rows = rows
        }
    }

    /// ``Name/handedBack``.
    public static func handedBack(_ id: JobID, attempt: Int) -> ExportEvent {
        ExportEvent(.handedBack, jobID: id).with { $0.attempt = attempt }
    }

    /// An event about an error outside any one export's outcome (``Name/receiveFailed``,
    /// ``Name/heartbeatMissed``, ``Name/cleanupFailed``, ``Name/reconcileFailed``, ``Name/stopped``).
    public static func fault(_ name: Name, _ error: any Error, jobID: JobID? = nil) -> ExportEvent {
        let error = ExportError.wrapping(error)
        return ExportEvent(name, jobID: jobID).with { $0.code = error.code; $0.message = error.message }
    }

    /// ``Name/corruptRecord``.
    public static func corruptRecord(path: String, reason: String) -> ExportEvent {
        ExportEvent(.corruptRecord).with { $0.code = .corruptData; $0.path = path; $0.message = reason }
    }
}

/// Receives ``ExportEvent``s. Bridge it to swift-log and swift-metrics in a few lines (Docs/Observability.md
/// shows both; the ExportServer example compiles them against the real packages).
///
/// ## Implementation requirements
/// `observe(_:)` is called synchronously on the pipeline's tasks: return quickly and never block.
public protocol ExportObserver: Sendable {
    /// Handles one event.
    ///
    /// - Parameters:
    ///   - event: What happened.
    func observe(_ event: ExportEvent)
}

/// An observer that ignores every event.
public struct NoObserver: ExportObserver {
    /// Creates the observer.
    public init() {}

    /// Ignores the event.
    ///
    /// - Parameters:
    ///   - event: What happened.
    public func observe(_ event: ExportEvent) {}
}

/// An observer that calls a closure.
public struct ClosureObserver: ExportObserver {
    private let body: @Sendable (ExportEvent) -> Void

    /// Wraps a closure.
    ///
    /// - Parameters:
    ///   - body: Called with every event.
    public init(_ body: @escaping @Sendable (ExportEvent) -> Void) { self.body = body }

    /// Passes the event to the closure.
    ///
    /// - Parameters:
    ///   - event: What happened.
    public func observe(_ event: ExportEvent) { body(event) }
}

/// An observer that passes every event to several others, in order.
public struct FanOutObserver: ExportObserver {
    private let observers: [any ExportObserver]

    /// Combines observers.
    ///
    /// - Parameters:
    ///   - observers: Each gets every event.
    public init(_ observers: [any ExportObserver]) { self.observers = observers }

    /// Passes the event to each observer.
    ///
    /// - Parameters:
    ///   - event: What happened.
    public func observe(_ event: ExportEvent) {
        for observer in observers { observer.observe(event) }
    }
}
