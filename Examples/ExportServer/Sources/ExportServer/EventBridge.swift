import ExportCore
import Logging
import Metrics

/// Sends every ``ExportEvent`` to a swift-log `Logger` (one line, structured metadata) and to
/// swift-metrics (counters, histograms), the bridge the library's observer protocol is made for.
///
/// Metric names (Prometheus form on `/metrics`):
/// - `export_jobs_total{outcome}`: finished jobs by outcome (`succeeded`, `failed`, `cancelled`);
/// - `export_requests_total{result}`: requests `accepted` or `deduplicated`;
/// - `export_retries_total` (and `export_retries_by_code_total{code}`), `export_faults_total{event,code}`, `export_dead_letters_total`, `export_requeued_total`, `export_notifications_total{kind}`;
/// - `export_events_total{event}`: every event by name (`export.progress` included);
/// - `export_duration_seconds` (histogram of successful exports), `export_size_bytes` and
///   `export_rows` (histograms), `export_queue_wait_seconds` (request to first start).
struct EventBridge: ExportObserver {
    let logger: Logger
    let factory: any MetricsFactory

    init(logger: Logger, factory: any MetricsFactory) {
        self.logger = logger
        self.factory = factory
        // Every series exists from the start at 0, so a rate() or an alert sees the first retry too.
        for outcome in ["succeeded", "failed", "cancelled"] {
            Counter(label: "export_jobs_total", dimensions: [("outcome", outcome)], factory: factory).increment(by: 0)
        }
        for result in ["accepted", "deduplicated", "rejected"] {
            Counter(label: "export_requests_total", dimensions: [("result", result)], factory: factory).increment(by: 0)
        }
        for label in ["export_retries_total", "export_dead_letters_total", "export_requeued_total"] {
            Counter(label: label, factory: factory).increment(by: 0)
        }
    }

    func observe(_ event: ExportEvent) {
        // Structured metadata from whatever the event carries: job id, code, attempt, rows, bytes, duration.
        var metadata: Logger.Metadata = [:]
        if let job = event.jobID { metadata["job"] = "\(job)" }
        if let owner = event.owner { metadata["owner"] = "\(owner)" }
        if let code = event.code { metadata["code"] = "\(code)" }
        if let attempt = event.attempt { metadata["attempt"] = "\(attempt)" }
        if let rows = event.rows { metadata["rows"] = "\(rows)" }
        if let bytes = event.bytes { metadata["bytes"] = "\(bytes)" }
        if let duration = event.duration { metadata["duration_ms"] = "\(Self.milliseconds(duration))" }
        if let delay = event.delay { metadata["delay_ms"] = "\(Self.milliseconds(delay))" }
        if let format = event.format { metadata["format"] = "\(format.identifier)" }
        if let state = event.state { metadata["state"] = "\(state.rawValue)" }
        if let kind = event.notification { metadata["kind"] = "\(kind.rawValue)" }
        if let path = event.path { metadata["path"] = "\(path)" }
        if let message = event.message { metadata["message"] = "\(message)" }
        var level = Logger.Level.info
        switch event.name {
        case .accepted:
            Counter(label: "export_requests_total", dimensions: [("result", "accepted")], factory: factory).increment()
        case .deduplicated:
            Counter(label: "export_requests_total", dimensions: [("result", "deduplicated")], factory: factory).increment()
        case .rejected:
            level = .notice
            Counter(label: "export_requests_total", dimensions: [("result", "rejected")], factory: factory).increment()
        case .started:
            if let waited = event.duration {
                Timer(label: "export_queue_wait_seconds", factory: factory).recordNanoseconds(Self.nanoseconds(waited))
            }
        case .progress:
            level = .debug  // frequent: debug only, and no metric (the totals come with the outcome)
        case .succeeded:
            Counter(label: "export_jobs_total", dimensions: [("outcome", "succeeded")], factory: factory).increment()
            if let duration = event.duration {
                Timer(label: "export_duration_seconds", factory: factory).recordNanoseconds(Self.nanoseconds(duration))
            }
            if let bytes = event.bytes { Recorder(label: "export_size_bytes", factory: factory).record(bytes) }
            if let rows = event.rows { Recorder(label: "export_rows", factory: factory).record(rows) }
        case .retried:
            level = .warning
            Counter(label: "export_retries_total", factory: factory).increment()
            Counter(label: "export_retries_by_code_total", dimensions: [("code", event.code?.description ?? "unknown")], factory: factory).increment()
        case .failed:
            level = .error
            Counter(label: "export_jobs_total", dimensions: [("outcome", "failed")], factory: factory).increment()
        case .notified:
            let kind = event.notification?.rawValue ?? "unknown"
            Counter(label: "export_notifications_total", dimensions: [("kind", kind)], factory: factory).increment()
        case .deadLettered:
            level = .error
            Counter(label: "export_dead_letters_total", factory: factory).increment()
        case .cancelled:
            Counter(label: "export_jobs_total", dimensions: [("outcome", "cancelled")], factory: factory).increment()
        case .requeued:
            level = .warning
            Counter(label: "export_requeued_total", factory: factory).increment()
        case .notificationPending, .heartbeatMissed, .cleanupFailed, .interrupted, .handedBack:
            level = .warning
        case .receiveFailed, .reconcileFailed, .schedulerFailed, .corruptRecord:
            level = .error
            Counter(label: "export_faults_total", dimensions: [("event", event.name.rawValue), ("code", event.code?.description ?? "unknown")], factory: factory)
                .increment()
        case .stopped where event.code != nil:
            level = .critical
        default:
            break
        }
        // Every event, progress included, also counts by name: the event rates of a dashboard.
        Counter(label: "export_events_total", dimensions: [("event", event.name.rawValue)], factory: factory).increment()
        logger.log(level: level, "\(event.name)", metadata: metadata)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue &+ attoseconds / 1_000_000_000
    }

    static func milliseconds(_ duration: Duration) -> Int64 { nanoseconds(duration) / 1_000_000 }
}
