import ExportCore
import Foundation
import Synchronization

/// Logs every job outcome with its job id (a failure with its reason and code), and remembers which
/// jobs were started but not finished, so a shutdown can say what it handed back.
final class WorkerLog: ExportObserver {
    let program: String
    private let inFlight = Mutex<Set<JobID>>([])

    init(program: String) { self.program = program }

    func observe(_ event: ExportEvent) {
        let code = event.code.map { " [\($0)]" } ?? ""
        let id = event.jobID.map(\.rawValue) ?? "-"
        switch event.name {
        case .started: if let job = event.jobID { inFlight.withLock { _ = $0.insert(job) } }
        case .succeeded:
            finished(event)
            print("\(program): job \(id) succeeded: \(event.rows ?? 0) rows, \(event.bytes ?? 0) bytes")
        case .retried:
            finished(event)
            log("job \(id) attempt \(event.attempt ?? 0) failed\(code), retrying in \(event.delay ?? .zero): \(event.message ?? "")")
        case .failed:
            finished(event)
            log("job \(id) FAILED after attempt \(event.attempt ?? 0)\(code): \(event.message ?? "")")
        case .deadLettered: log("job \(id) dead-lettered\(code): \(event.message ?? "")")
        case .notificationPending: log("job \(id): the e-mail could not be sent yet\(code): \(event.message ?? "")")
        case .cancelled, .handedBack: finished(event)
        case .receiveFailed, .reconcileFailed, .cleanupFailed, .heartbeatMissed, .corruptRecord:
            log("\(event.name)\(code): \(event.message ?? "")")
        case .stopped where event.code != nil: log("stopped\(code): \(event.message ?? "")")
        default: break
        }
        fflush(nil)
    }

    private func finished(_ event: ExportEvent) {
        if let job = event.jobID, event.name != .handedBack { inFlight.withLock { _ = $0.remove(job) } }
    }

    /// Jobs started and not yet finished (after a shutdown: the ones handed back to the queue).
    var unfinished: [JobID] { inFlight.withLock { $0.sorted { $0.rawValue < $1.rawValue } } }

    func log(_ line: String) {
        FileHandle.standardError.write(Data("\(program): \(line)\n".utf8))
    }
}
