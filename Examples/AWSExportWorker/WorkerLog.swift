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
        switch event {
        case .started(let id, _, _): inFlight.withLock { _ = $0.insert(id) }
        case .succeeded(let id, let rows, let bytes, _):
            inFlight.withLock { _ = $0.remove(id) }
            print("\(program): job \(id) succeeded: \(rows) rows, \(bytes) bytes")
        case .retried(let id, let attempt, let delay, let error):
            inFlight.withLock { _ = $0.remove(id) }
            log("job \(id) attempt \(attempt) failed, retrying in \(delay): \(error)")
        case .failed(let id, let attempt, let reason):
            inFlight.withLock { _ = $0.remove(id) }
            log("job \(id) FAILED after attempt \(attempt): \(reason)")
        case .deadLettered(let id, let reason): log("job \(id) dead-lettered: \(reason)")
        case .cancelled(let id): inFlight.withLock { _ = $0.remove(id) }
        default: break
        }
        fflush(nil)
    }

    /// Jobs started and not yet finished (after a shutdown: the ones handed back to the queue).
    var unfinished: [JobID] { inFlight.withLock { $0.sorted { $0.rawValue < $1.rawValue } } }

    func log(_ line: String) {
        FileHandle.standardError.write(Data("\(program): \(line)\n".utf8))
    }
}

/// A queue that logs failed receives (the worker retries them after its idle delay, without a word).
struct LoggingQueue: Queue {
    let base: any Queue
    let log: WorkerLog

    func enqueue(_ message: QueueMessage, delay: Duration) async throws -> MessageID { try await base.enqueue(message, delay: delay) }
    func receive(max: Int, visibilityTimeout: Duration, waitTime: Duration) async throws -> [Delivery] {
        do {
            return try await base.receive(max: max, visibilityTimeout: visibilityTimeout, waitTime: waitTime)
        } catch {
            if !(error is CancellationError) { log.log("receiving from the queue failed: \(error)") }
            throw error
        }
    }
    func acknowledge(_ receipt: LeaseReceipt) async throws { try await base.acknowledge(receipt) }
    func release(_ receipt: LeaseReceipt, delay: Duration) async throws { try await base.release(receipt, delay: delay) }
    func extendLease(_ receipt: LeaseReceipt, by visibilityTimeout: Duration) async throws -> Date {
        try await base.extendLease(receipt, by: visibilityTimeout)
    }
    func deadLetter(_ receipt: LeaseReceipt, reason: String) async throws { try await base.deadLetter(receipt, reason: reason) }
    func deadLetters(limit: Int) async throws -> [DeadLetter] { try await base.deadLetters(limit: limit) }
    func redrive(_ ids: [MessageID]?) async throws -> Int { try await base.redrive(ids) }
}
