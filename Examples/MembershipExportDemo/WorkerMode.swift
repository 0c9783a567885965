import ExampleSupport
import ExportAdapters
import ExportCore
import Foundation

/// `membership-export-demo worker`: only runs workers on an existing data directory, and exits once
/// every user's job is finished. Used by the multi-process crash test, which kills these processes
/// at random moments and starts new ones.
struct WorkerMode {
    let options: DemoOptions
    let backend: DemoBackend

    func run() async throws {
        let demo = DemoRun(options: options, backend: backend)
        let workers = try demo.makeWorkers()
        // Every process repairs too, as a host's would: the reconciler requeues only jobs without a live
        // message, so several processes' passes never multiply messages.
        let reconciler = try Reconciler(ports: backend.ports(observer: demo.statistics), configuration: demo.reconcilerConfiguration)
        let signals = StopSignals()
        signals.install(program: "membership-export-demo worker", stopping: workers)
        defer { if signals.requested.withLock({ $0 }) != nil { print(demo.statistics.handedBackLine(dataDirectory: options.dataDirectory)) } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers { group.addTask { try await worker.run() } }
            let reconcilerTask = Task { try await reconciler.run(every: options.visibilityTimeout) }
            defer { reconcilerTask.cancel() }
            defer { for worker in workers { worker.shutdown() } }
            while true {
                if signals.requested.withLock({ $0 }) != nil {
                    for worker in workers { worker.shutdown() }
                    try await group.waitForAll()
                    return
                }
                var finished = true
                for owner in backend.owners {
                    guard let job = try await backend.jobs.list(owner: owner, after: nil, limit: 1).items.first, DemoRun.isFinished(job) else {
                        finished = false
                        break
                    }
                }
                if finished { return }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
