import ExportCore
import Logging
import Metrics

/// Sends every ``ExportEvent`` to a swift-log `Logger` (one line, structured metadata) and to
/// swift-metrics (counters, histograms), the bridge the library's observer protocol is made for.
///
/// Metric names (Prometheus form on `/metrics`):
/// - `export_jobs_total{outcome}`: finished jobs by outcome (`succeeded`, `failed`, `cancelled`);
/// - `export_requests_total{result}`: requests `accepted` or `deduplicated`;
/// - `export_retries_total`, `export_dead_letters_total`, `export_requeued_total`, `export_notifications_total{kind}`;
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
        for result in ["accepted", "deduplicated"] {
            Counter(label: "export_requests_total", dimensions: [("result", result)], factory: factory).increment(by: 0)
        }
        for label in ["export_retries_total", "export_dead_letters_total", "export_requeued_total"] {
            Counter(label: label, factory: factory).increment(by: 0)
        }
    }

    func observe(_ event: ExportEvent) {
        var metadata: Logger.Metadata = ["job": "\(event.jobID)"]
        var level = Logger.Level.info
        switch event {
        case .accepted(_, let owner, let format):
            metadata["owner"] = "\(owner)"
            metadata["format"] = "\(format.identifier)"
            Counter(label: "export_requests_total", dimensions: [("result", "accepted")], factory: factory).increment()
        case .deduplicated(_, let owner):
            metadata["owner"] = "\(owner)"
            Counter(label: "export_requests_total", dimensions: [("result", "deduplicated")], factory: factory).increment()
        case .started(_, let attempt, let waited):
            metadata["attempt"] = "\(attempt)"
            metadata["waited_ms"] = "\(Self.milliseconds(waited))"
            Timer(label: "export_queue_wait_seconds", factory: factory).recordNanoseconds(Self.nanoseconds(waited))
        case .progress(_, let rows):
            // Frequent: debug only, and no metric (the totals come with the outcome).
            metadata["rows"] = "\(rows)"
            level = .debug
        case .succeeded(_, let rows, let bytes, let duration):
            metadata["rows"] = "\(rows)"
            metadata["bytes"] = "\(bytes)"
            metadata["duration_ms"] = "\(Self.milliseconds(duration))"
            Counter(label: "export_jobs_total", dimensions: [("outcome", "succeeded")], factory: factory).increment()
            Timer(label: "export_duration_seconds", factory: factory).recordNanoseconds(Self.nanoseconds(duration))
            Recorder(label: "export_size_bytes", factory: factory).record(bytes)
            Recorder(label: "export_rows", factory: factory).record(rows)
        case .retried(_, let attempt, let delay, let error):
            metadata["attempt"] = "\(attempt)"
            metadata["delay_ms"] = "\(Self.milliseconds(delay))"
            metadata["error"] = "\(error)"
            level = .warning
            Counter(label: "export_retries_total", factory: factory).increment()
        case .failed(_, let attempt, let reason):
            metadata["attempt"] = "\(attempt)"
            metadata["reason"] = "\(reason)"
            level = .error
            Counter(label: "export_jobs_total", dimensions: [("outcome", "failed")], factory: factory).increment()
        case .notified(_, let kind):
            metadata["kind"] = "\(kind.rawValue)"
            Counter(label: "export_notifications_total", dimensions: [("kind", kind.rawValue)], factory: factory).increment()
        case .deadLettered(_, let reason):
            metadata["reason"] = "\(reason)"
            level = .error
            Counter(label: "export_dead_letters_total", factory: factory).increment()
        case .cancelled:
            Counter(label: "export_jobs_total", dimensions: [("outcome", "cancelled")], factory: factory).increment()
        case .requeued(_, let state):
            metadata["state"] = "\(state.rawValue)"
            level = .warning
            Counter(label: "export_requeued_total", factory: factory).increment()
        }
        // Every event, progress included, also counts by name: the event rates of a dashboard.
        Counter(label: "export_events_total", dimensions: [("event", event.name)], factory: factory).increment()
        logger.log(level: level, "\(event.name)", metadata: metadata)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue &+ attoseconds / 1_000_000_000
    }

    static func milliseconds(_ duration: Duration) -> Int64 { nanoseconds(duration) / 1_000_000 }
}
