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
            switch event {
            case .started: counts.started += 1
            case .retried(let id, _, _, _):
                counts.retried += 1
                counts.rowsInProgress[id] = nil
            case .failed(let id, _, _):
                counts.failed += 1
                counts.rowsInProgress[id] = nil
            case .succeeded(let id, _, _, _):
                counts.succeeded += 1
                counts.rowsInProgress[id] = nil
            case .progress(let id, let rows): counts.rowsInProgress[id] = rows
            default: break
            }
        }
    }
}
