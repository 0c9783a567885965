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
    }

    let counts = Mutex(Counts())

    func observe(_ event: ExportEvent) {
        counts.withLock { counts in
            guard let id = event.jobID else { return }
            switch event.name {
            case .started: counts.started += 1
            case .retried:
                counts.retried += 1
                counts.rowsInProgress[id] = nil
            case .failed:
                counts.failed += 1
                counts.rowsInProgress[id] = nil
            case .succeeded:
                counts.succeeded += 1
                counts.rowsInProgress[id] = nil
            case .progress: counts.rowsInProgress[id] = event.rows
            default: break
            }
        }
    }
}
