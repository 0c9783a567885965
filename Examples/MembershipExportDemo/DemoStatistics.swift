import ExportCore
import Foundation
import Synchronization

/// Counts events from the pipeline's observer for the progress display and the summary.
final class DemoStatistics: ExportObserver {
    struct Counts {
        var started = 0
        var retried = 0
        var failed = 0
        var succeeded = 0
        var rowsInProgress: [JobID: Int64] = [:]
        /// Started and not yet finished: after a shutdown, the jobs handed back to the queue.
        var inFlight: Set<JobID> = []
        /// Handed back by a stopping worker (`export.handedBack`).
        var handedBack: Set<JobID> = []
        /// When the last job finished or was notified (the summary's wall time ends here, not at the
        /// next 200 ms poll of the progress loop).
        var lastFinish: ContinuousClock.Instant?
        /// Rows exported by this run (the summary's rows/s; a resumed run's earlier rows do not count).
        var rowsThisRun: Int64 = 0
    }

    let counts = Mutex(Counts())

    func observe(_ event: ExportEvent) {
        let now = ContinuousClock.now
        counts.withLock { counts in
            guard let id = event.jobID else { return }
            switch event.name {
            case .succeeded, .failed, .notified, .cancelled: counts.lastFinish = now
            default: break
            }
            switch event.name {
            case .started:
                counts.started += 1
                counts.inFlight.insert(id)
            case .retried:
                counts.retried += 1
                counts.rowsInProgress[id] = nil
                counts.inFlight.remove(id)
            case .failed:
                counts.failed += 1
                counts.rowsInProgress[id] = nil
                counts.inFlight.remove(id)
            case .succeeded:
                counts.succeeded += 1
                counts.rowsThisRun += event.rows ?? 0
                counts.rowsInProgress[id] = nil
                counts.inFlight.remove(id)
            case .progress: counts.rowsInProgress[id] = event.rows
            case .cancelled: counts.inFlight.remove(id)
            case .handedBack: counts.handedBack.insert(id)
            default: break
            }
        }
    }
}

extension DemoStatistics {
    /// The line a stopped run prints: which jobs were handed back, and how to finish them.
    func handedBackLine(dataDirectory: String) -> String {
        let ids = counts.withLock { $0.inFlight.union($0.handedBack).map(\.rawValue).sorted() }
        let what = ids.isEmpty ? "every running export finished" : "\(ids.count) running export(s) handed back to the queue: \(ids.joined(separator: ", "))"
        return "stopped: \(what); run the same command again (same --data-dir \(dataDirectory)) to finish the rest"
    }
}
