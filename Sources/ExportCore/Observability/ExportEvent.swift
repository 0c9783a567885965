import Foundation

/// Something that happened to an export, with the counts and durations a host logs or measures.
public enum ExportEvent: Hashable, Sendable {
    /// A request was accepted and the job queued.
    case accepted(JobID, owner: UserID, format: ExportFormat)
    /// A request returned the owner's active export instead of starting another.
    case deduplicated(JobID, owner: UserID)
    /// A worker started an attempt; `waited` is the time since the job was requested.
    case started(JobID, attempt: Int, waited: Duration)
    /// The running attempt has written `rows` rows so far.
    case progress(JobID, rows: Int64)
    /// The file is stored.
    case succeeded(JobID, rows: Int64, bytes: Int64, duration: Duration)
    /// An attempt failed and will be retried after `delay`.
    case retried(JobID, attempt: Int, delay: Duration, error: String)
    /// The export failed for good and was dead-lettered.
    case failed(JobID, attempt: Int, reason: String)
    /// The user was sent the "ready" or "failed" message.
    case notified(JobID, kind: NotificationKind)
    /// Handling the job's message kept failing outside the export (the job store, the notifier, the
    /// queue), or failed with an error that is not retryable: the message was dead-lettered for a person
    /// to look at. A job that had not ended was marked failed with `reason`.
    case deadLettered(JobID, reason: String)
    /// The export was cancelled.
    case cancelled(JobID)
    /// The reconciler queued a job again that had been stuck or never queued.
    case requeued(JobID, state: JobState)

    /// The job the event is about.
    public var jobID: JobID {
        switch self {
        case .accepted(let id, _, _), .deduplicated(let id, _), .started(let id, _, _), .progress(let id, _),
            .succeeded(let id, _, _, _), .retried(let id, _, _, _), .failed(let id, _, _), .notified(let id, _), .deadLettered(let id, _),
            .cancelled(let id), .requeued(let id, _):
            id
        }
    }

    /// A short, stable name for logs and metric labels, such as `export.succeeded`.
    public var name: String {
        switch self {
        case .accepted: "export.accepted"
        case .deduplicated: "export.deduplicated"
        case .started: "export.started"
        case .progress: "export.progress"
        case .succeeded: "export.succeeded"
        case .retried: "export.retried"
        case .failed: "export.failed"
        case .deadLettered: "export.deadLettered"
        case .notified: "export.notified"
        case .cancelled: "export.cancelled"
        case .requeued: "export.requeued"
        }
    }
}

/// Receives ``ExportEvent``s. Bridge it to swift-log or swift-metrics in a few lines:
///
/// ```swift
/// struct LoggingObserver: ExportObserver {
///     let logger: Logger
///     func observe(_ event: ExportEvent) {
///         logger.info("\(event.name)", metadata: ["job": "\(event.jobID)"])
///     }
/// }
/// ```
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
