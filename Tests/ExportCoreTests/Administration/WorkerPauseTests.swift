import ExportAdapters
import ExportCore
import Foundation
import Synchronization
import Testing

/// The pause switch through `ExportAdministration`, seen by two workers on one store.
@Suite("Worker pause")
struct WorkerPauseTests {
    @Test("two workers on one store: paused, neither receives and the running export finishes; resumed, both work again")
    func pauseAndResume() async throws {
        let harness = Harness()
        let control = InMemoryWorkerControlStore()
        var ports = harness.ports()
        ports.workerControl = control
        let admin = try ExportAdministration(ports: ports)
        let source = HoldingSource(harness.source)
        let logs = [EventLog(), EventLog()]
        let workers = try logs.map { log in
            try ExportWorker(
                ports: ports.observed(by: log), source: source,
                configuration: .init(
                    concurrency: 1, visibilityTimeout: Harness.lease, receiveWaitTime: .zero, idleDelay: .seconds(1),
                    retryPolicy: harness.policy, pageSize: 2, shutdownGracePeriod: .seconds(30), randomSeed: 7,
                    pauseCheckInterval: .seconds(1)))
        }
        func seen(_ name: ExportEvent.Name, by index: Int) -> Bool { logs[index].all.contains { $0.name == name } }
        func tick(_ times: Int = 1) async {
            for _ in 0..<times {
                harness.clock.advance(by: .seconds(1))
                for _ in 0..<2000 { await Task.yield() }
            }
        }
        /// Ticks until `condition` holds, at most 30 simulated seconds; records an issue otherwise.
        func tick(until what: String, _ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async {
            for _ in 0..<30 where !condition() { await tick() }
            if !condition() { Issue.record("never: \(what)", sourceLocation: sourceLocation) }
        }

        source.hold()
        let running = try await harness.request("u1").jobID
        let runs = workers.map { worker in Task { try? await worker.run() } }
        await eventually("one worker runs the first export") { source.arrivals == 1 }
        let busy = try #require(logs.firstIndex { log in log.all.contains { $0.name == .started } })
        let idle = 1 - busy

        try await admin.pauseWorkers(by: "alice", reason: "maintenance")
        await tick(until: "the idle worker sees the pause") { seen(.workerPaused, by: idle) }  // at its next check
        let waiting = [try await harness.request("u2").jobID, try await harness.request("u3").jobID]
        await tick(3)
        #expect(await harness.queue.visibleCount == 2)  // neither worker received them
        #expect(source.arrivals == 1)

        source.release()  // the running export finishes during the pause
        await eventually("the running export finishes") { (try? await harness.job(running).state) == .succeeded }
        await tick(until: "the busy worker sees the pause") { seen(.workerPaused, by: busy) }  // its slot is free; it stays paused
        await tick(3)
        #expect(await harness.queue.visibleCount == 2)
        for id in waiting { #expect(try await harness.job(id).state == .queued) }

        source.hold()
        try await admin.resumeWorkers(by: "alice")
        await tick(until: "both workers run an export") { source.arrivals == 3 }  // each (concurrency 1) holds one of the two
        #expect(seen(.workerResumed, by: 0) && seen(.workerResumed, by: 1))
        if source.arrivals < 3 { source.release() }  // a failed run must not leave exports held
        #expect(seen(.started, by: idle))
        source.release()
        await eventually("both exports finish") {
            var states: [JobState] = []
            for id in waiting { states.append((try? await harness.job(id).state) ?? .queued) }
            return states == [.succeeded, .succeeded]
        }
        for worker in workers { worker.shutdown() }
        for run in runs { await run.value }
    }

    @Test("processAvailable receives nothing while paused")
    func processAvailablePaused() async throws {
        let harness = Harness()
        let control = InMemoryWorkerControlStore()
        var ports = harness.ports()
        ports.workerControl = control
        let ticket = try await harness.request()
        try await control.setWorkerControl(WorkerControl(paused: true))
        let worker = try ExportWorker(ports: ports, source: harness.source, configuration: .init(receiveWaitTime: .zero))
        #expect(try await worker.processAvailable() == 0)
        try await control.setWorkerControl(WorkerControl(paused: false))
        #expect(try await worker.processAvailable() == 1)
        #expect(try await harness.job(ticket.jobID).state == .succeeded)
    }

    @Test("a switch that cannot be read keeps the last answer and is reported")
    func unreadableSwitch() async throws {
        let harness = Harness()
        let control = InMemoryWorkerControlStore()
        var ports = harness.ports()
        ports.workerControl = control
        _ = try await harness.request()
        try await control.setWorkerControl(WorkerControl(paused: true))
        let worker = try ExportWorker(ports: ports, source: harness.source, configuration: .init(receiveWaitTime: .zero))
        #expect(try await worker.processAvailable() == 0)
        control.faults.failNext(.workerControl, with: ExportError(.unavailable, "down"))
        #expect(try await worker.processAvailable() == 0)  // still paused
        #expect(harness.events.all.contains { $0.name == .workerControlFailed && $0.code == .unavailable })
    }
}

/// A membership source that holds page calls while `hold()` is in force, counting arrivals; unlike
/// `GatedSource` it can hold again after a release.
final class HoldingSource: MembershipSource {
    private struct State {
        var holding = false
        var waiting: [CheckedContinuation<Void, Never>] = []
        var arrivals = 0
    }

    private let inner: any MembershipSource
    private let state = Mutex(State())

    init(_ inner: any MembershipSource) { self.inner = inner }

    var arrivals: Int { state.withLock { $0.arrivals } }

    func hold() { state.withLock { $0.holding = true } }

    func release() {
        let waiting = state.withLock { state in
            state.holding = false
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let pass = state.withLock { state -> Bool in
                guard state.holding else { return true }
                state.arrivals += 1
                state.waiting.append(continuation)
                return false
            }
            if pass { continuation.resume() }
        }
        return try await inner.memberships(of: owner, after: cursor, limit: limit)
    }
}
