import ExportCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Samples the backlog every few seconds into gauges, as a service of the ServiceGroup:
/// - `export_queue_depth`: jobs waiting for a worker (queued, or scheduled for a retry);
/// - `export_queue_oldest_age_seconds`: how long the oldest of them has waited since it was requested;
/// - `export_running`: jobs a worker is running;
/// - `export_dead_letters`: messages in the dead-letter queue.
///
/// The counts come from the job store's `stale(in:updatedBefore:limit:)` (every port has it), capped at
/// ``limit``, so they hold for every backend.
struct QueueGauges: Service {
    let jobs: any JobStore
    let queue: any Queue
    let factory: any MetricsFactory
    let logger: Logger
    var interval: Duration = .seconds(5)
    var limit = 10_000

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sample()
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }

    func sample() async {
        let now = Date()
        do {
            let waiting = try await jobs.stale(in: [.queued, .retryScheduled], updatedBefore: now.addingTimeInterval(1), limit: limit)
            let running = try await jobs.stale(in: [.running], updatedBefore: now.addingTimeInterval(1), limit: limit)
            let oldest = waiting.map(\.createdAt).min().map { now.timeIntervalSince($0) } ?? 0
            Gauge(label: "export_queue_depth", factory: factory).record(waiting.count)
            Gauge(label: "export_queue_oldest_age_seconds", factory: factory).record(max(0, oldest))
            Gauge(label: "export_running", factory: factory).record(running.count)
            let deadLetters = try await queue.deadLetters(limit: limit)
            Gauge(label: "export_dead_letters", factory: factory).record(deadLetters.count)
        } catch {
            // Reported, not swallowed: the gauges keep their last values and the next pass tries again.
            logger.warning("queue gauges could not be sampled", metadata: ["error": "\(error)"])
        }
    }
}
