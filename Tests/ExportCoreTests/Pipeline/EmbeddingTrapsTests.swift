import ExportAdapters
import ExportCore
import Foundation
import Synchronization
import Testing

/// The traps an embedder fell into with the first API, each held by a test that failed on it.
@Suite("Embedding traps")
struct EmbeddingTrapsTests {
    @Test("A lease shortened after the configuration was made still gets heartbeats: a 50 s export keeps its 30 s lease")
    func visibilityTimeoutSetAfterInit() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        var configuration = ExportWorker.Configuration(receiveWaitTime: .zero, randomSeed: 1)
        configuration.visibilityTimeout = .seconds(30)  // after init: the old init had fixed the heartbeat at 100 s
        #expect(configuration.resolvedHeartbeatInterval == .seconds(10))
        let gated = GatedSource(harness.source)
        let worker = try ExportWorker(ports: harness.ports(), source: gated, configuration: configuration)
        let run = Task { try await worker.processAvailable() }
        await gated.waitForArrival()
        for _ in 0..<5 {
            await harness.waitForSleepers(1)  // the heartbeat's timer
            harness.clock.advance(by: .seconds(10))
            for _ in 0..<200 { await Task.yield() }
        }
        let running = try await harness.job(ticket.jobID)
        #expect(running.state == .running)
        let leaseEnd = try #require(running.lifecycle.leaseExpiresAt)
        #expect(leaseEnd > harness.clock.now(), "the lease ran out while the export was running")
        gated.open()
        _ = try await run.value
        let done = try await harness.job(ticket.jobID)
        #expect(done.state == .succeeded)
        #expect(done.attempt == 1)
    }

    @Test("Settings that cannot work are refused at construction with a configuration error naming them",
        arguments: ["concurrency", "heartbeatInterval", "pageSize", "compressionLevel", "maxDeliveries"])
    func invalidWorkerConfiguration(_ setting: String) {
        let harness = Harness()
        var configuration = ExportWorker.Configuration()
        switch setting {  // each set after init, as a host would
        case "concurrency": configuration.concurrency = 0
        case "heartbeatInterval": configuration.heartbeatInterval = .seconds(400)
        case "pageSize": configuration.pageSize = 0
        case "compressionLevel": configuration.compressionLevel = 12
        default: configuration.maxDeliveries = 0
        }
        let error = #expect(throws: ExportError.self) {
            try ExportWorker(ports: harness.ports(), source: harness.source, configuration: configuration)
        }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains(setting) == true, "\(String(describing: error?.message))")
    }

    @Test("A link lifetime longer than the blob store can sign fails at start-up, not after every export's file was written")
    func linkLifetimeAboveStoreMaximum() async throws {
        let clock = ManualClock(now: Harness.t0)
        let blobs = InMemoryBlobStore(clock: clock, maximumLinkLifetime: .seconds(7 * 24 * 3600))
        let ports = ExportPorts(
            jobStore: InMemoryJobStore(), queue: InMemoryQueue(clock: clock), blobStore: blobs, notifier: InMemoryNotifier(), clock: clock,
            settings: ExportSettings(retention: .seconds(30 * 24 * 3600), linkLifetime: .seconds(14 * 24 * 3600)))
        for make in [
            { _ = try ExportWorker(ports: ports, source: InMemoryMembershipSource([])) },
            { _ = try ExportService(ports: ports) },
            { _ = try Reconciler(ports: ports) },
        ] as [() throws -> Void] {
            let error = #expect(throws: ExportError.self) { try make() }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains("linkLifetime") == true)
        }
        #expect(throws: ExportError.self) {
            try ExportWorker(ports: ports.with { $0.linkLifetime = .seconds(40 * 24 * 3600) }, source: InMemoryMembershipSource([]))
        }
        _ = try ExportWorker(ports: ports.with { $0.linkLifetime = .seconds(7 * 24 * 3600) }, source: InMemoryMembershipSource([]))
    }

    @Test("A receive that fails for a fault that cannot heal stops run() with that error, after reporting it")
    func receiveFaultStopsRun() async throws {
        let harness = Harness()
        harness.queue.faults.failAlways(.receive, with: ExportError(.unauthorized, "the security token is invalid"))
        let worker = harness.worker()
        let error = await #expect(throws: ExportError.self) { try await worker.run() }
        #expect(error?.code == .unauthorized)
        let names = harness.events.all.map(\.name)
        #expect(names.contains(.receiveFailed))
        #expect(harness.events.all.contains { $0.name == .stopped && $0.code == .unauthorized })
    }

    @Test("A receive that fails for a passing fault is reported with its code, and the worker goes on after a backoff")
    func passingReceiveFaultIsReported() async throws {
        let harness = Harness()
        harness.queue.faults.failNext(.receive, count: 2, with: ExportError(.unavailable, "connection refused", isRetryable: true))
        let ticket = try await harness.request()
        let worker = harness.worker()
        let run = Task { try await worker.run() }
        for _ in 0..<2 {
            await harness.waitForSleepers(1)
            harness.clock.advance(by: .seconds(5))
        }
        for _ in 0..<50 where try await harness.job(ticket.jobID).state != .succeeded {
            await harness.waitForSleepers(1)
            harness.clock.advance(by: .seconds(1))
        }
        worker.shutdown()
        try await run.value
        #expect(try await harness.job(ticket.jobID).state == .succeeded)
        let failures = harness.events.all.filter { $0.name == .receiveFailed }
        #expect(failures.count == 2)
        #expect(failures.allSatisfy { $0.code == .unavailable })
    }

    @Test("processAvailable() throws a failed receive instead of answering 0")
    func processAvailableThrows() async throws {
        let harness = Harness()
        harness.queue.faults.failNext(.receive, with: ExportError(.notFound, "no such queue"))
        let error = await #expect(throws: ExportError.self) { try await harness.worker().processAvailable() }
        #expect(error?.code == .notFound)
        #expect(harness.events.all.contains { $0.name == .receiveFailed && $0.code == .notFound })
    }

    @Test("A reconcile pass that fails is reported with its code; a fault that cannot heal ends run(every:)")
    func reconcileFailuresReported() async throws {
        let harness = Harness()
        harness.jobs.faults.failNext(.stale, with: ExportError(.unavailable, "table throttled", isRetryable: true))
        let reconciler = harness.reconciler()
        let run = Task { try await reconciler.run(every: .seconds(60)) }
        await harness.waitForSleepers(1)
        #expect(harness.events.all.contains { $0.name == .reconcileFailed && $0.code == .unavailable })
        harness.jobs.faults.failAlways(.stale, with: ExportError(.unauthorized, "credentials rejected"))
        harness.clock.advance(by: .seconds(60))
        let error = await #expect(throws: ExportError.self) { try await run.value }
        #expect(error?.code == .unauthorized)
    }

    @Test("Retried and failed events carry the error's code, so a metrics bridge can label by it")
    func eventsCarryCodes() async throws {
        let harness = Harness(policy: RetryPolicy(maxAttempts: 2, baseDelay: .seconds(1), maxDelay: .seconds(1), jitter: .none))
        harness.source.faults.failAlways(.page, with: ExportError(.transient, "slow down", isRetryable: true))
        let ticket = try await harness.request()
        try await harness.worker().processAvailable()
        harness.clock.advance(by: .seconds(2))
        try await harness.worker().processAvailable()
        #expect(try await harness.job(ticket.jobID).state == .failed)
        let retried = try #require(harness.events.all.first { $0.name == .retried })
        #expect(retried.code == .transient && retried.attempt == 1 && retried.delay == .seconds(1))
        let failed = try #require(harness.events.all.first { $0.name == .failed })
        #expect(failed.code == .transient)
    }

    @Test("A rejected request reaches the observer with its code")
    func rejectedRequestsReported() async throws {
        let harness = Harness()
        _ = try? await harness.request(format: "xlsx")
        #expect(harness.events.all.contains { $0.name == .rejected && $0.code == .unsupportedFormat && $0.owner == "u1" })
    }

    @Test("Events can grow: a host's switch over the name needs a default, and an unknown name is just a value")
    func eventsAreOpen() {
        let custom = ExportEvent(ExportEvent.Name("host.custom"))
        switch custom.name {
        case .succeeded, .failed: Issue.record("matched a library event")
        default: #expect(custom.name.rawValue == "host.custom")
        }
        #expect(ExportEvent.succeeded(JobID.random(), attempt: 1, rows: 3, bytes: 10, duration: .seconds(1)).description.contains("rows=3"))
    }
}
