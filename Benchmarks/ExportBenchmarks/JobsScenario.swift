import ExportCore
import ExportFileSystem
import ExportInMemory
import Foundation
import Synchronization

/// The `jobs-*` scenarios: many tiny jobs (one row each), request → notified, through
/// `ExportService` and one `ExportWorker` on one backend, in one process.
///
/// `clients` concurrent clients each request an export for a user of their own (`ExportService.request`,
/// timed one by one for the latency figures), wait until the notifier has sent that job's "ready"
/// message, and request the next, until `jobs` jobs have been notified. The worker runs `clients`
/// exports at once. Closed loop: at most `clients` jobs are in flight, so what grows from 1k to 100k
/// jobs is the job store (every job stays recorded) and the outbox, not the queue's backlog.
/// `jobsPerSecond` is the jobs divided by the time from the first request to the last notification.
enum JobsScenario {
    enum Backend: Sendable {
        case memory
        case file(FileDurability)
    }

    struct Figures {
        var seconds: Double
        var cpuSeconds: Double
        var requestLatencies: [Double]
    }

    static func run(jobs: Int, clients: Int, backend: Backend) async throws -> Figures {
        let notified = NotifiedJobs()
        var ports: ExportPorts
        var directory: URL?
        switch backend {
        case .memory:
            ports = InMemoryBackend().ports
        case .file(let durability):
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "export-benchmark-jobs-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
            directory = root
            let backend = try FileSystemBackend(
                directory: root, linkSecret: Array("benchmark link secret, 32 bytes!".utf8),
                linkBaseURL: URL(string: "https://exports.example.com/api/v1/downloads")!,
                from: try EmailAddress(validating: "exports@example.com"), durability: durability)
            ports = backend.ports
            // A worker waiting for work looks at the spool every millisecond, not every 100 ms.
            ports.queue = try FileQueue(
                directory: root.appendingPathComponent("queue", isDirectory: true), pollInterval: .milliseconds(1),
                durability: durability)
        }
        defer { if let directory { try? FileManager.default.removeItem(at: directory) } }
        ports.notifier = CountingNotifier(inner: ports.notifier, notified: notified)
        let service = try ExportService(ports: ports, configuration: .init(rateLimit: nil))
        let worker = try ExportWorker(
            ports: ports, source: WorkloadSource(rows: 1),
            configuration: .init(concurrency: clients, receiveWaitTime: .milliseconds(200)))
        let workerTask = Task { try await worker.run() }
        let recipient = try EmailAddress(validating: "owner@example.com")

        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = ProcessCPUTime.now()
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for client in 0..<clients {
                group.addTask {
                    var latencies: [Double] = []
                    for number in stride(from: client, to: jobs, by: clients) {
                        let requested = clock.now
                        let ticket = try await service.request(
                            ExportRequest(owner: UserID("user-\(number)"), recipient: recipient, format: "csv"))
                        latencies.append((clock.now - requested).seconds)
                        guard !ticket.deduplicated else { throw BenchmarkError("jobs: request \(number) was deduplicated") }
                        await notified.wait(for: ticket.jobID)
                    }
                    return latencies
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = clock.now - start
        let cpu = ProcessCPUTime.now() - cpuStart
        worker.shutdown()
        try await workerTask.value
        guard notified.count == jobs else { throw BenchmarkError("jobs: \(notified.count) notified, not \(jobs)") }
        return Figures(seconds: elapsed.seconds, cpuSeconds: cpu, requestLatencies: latencies)
    }
}

/// The jobs whose notification was sent, and the clients waiting for theirs.
final class NotifiedJobs: Sendable {
    private enum Entry {
        case waiting(CheckedContinuation<Void, Never>)
        case notified
    }

    private struct State {
        var entries: [JobID: Entry] = [:]
        var count = 0
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.count } }

    /// Records a sent notification and wakes its waiting client.
    func record(_ id: JobID) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            let previous = state.entries[id]
            if case .notified = previous { return nil }
            state.count += 1
            state.entries[id] = .notified
            if case .waiting(let continuation) = previous { return continuation }
            return nil
        }
        waiter?.resume()
    }

    /// Returns once the job's notification was sent.
    func wait(for id: JobID) async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if case .notified = state.entries[id] { return true }
                state.entries[id] = .waiting(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// A notifier that sends through another and records each sent job.
struct CountingNotifier: Notifier {
    let inner: any Notifier
    let notified: NotifiedJobs

    func send(_ notification: ExportNotification) async throws {
        try await inner.send(notification)
        notified.record(notification.jobID)
    }
}
