import ExportAdapters
import ExportCore
import Foundation
import Synchronization
import Testing

/// `ExportWorker.run()`: bounded concurrency, shutdown, one loop per worker.
@Suite("ExportWorker.run")
struct RunLoopTests {
    @Test("run() never has more than `concurrency` exports in flight, and shutdown stops receiving")
    func boundedConcurrency() async throws {
        let harness = Harness()
        var tickets: [ExportTicket] = []
        for user in ["u1", "u2", "u3", "u4", "u5"] { tickets.append(try await harness.request(UserID(user))) }
        let counting = CountingSource(harness.source)
        let gated = GatedSource(counting)
        let worker = harness.worker(source: gated, concurrency: 2)
        let run = Task { try? await worker.run() }

        await gated.waitForArrival()
        await gated.waitForArrival()
        for _ in 0..<1000 { await Task.yield() }
        #expect(await harness.queue.inFlightCount == 2)  // only two messages were received
        gated.open()
        await eventually("every export is mailed") { await harness.notifier.sent.count == 5 }
        #expect(counting.maxInFlight <= 2)
        #expect(counting.maxInFlight >= 1)
        for ticket in tickets { #expect(try await harness.job(ticket.jobID).state == .succeeded) }

        worker.shutdown()
        await run.value
        let late = try await harness.request("u6")
        #expect(await harness.queue.visibleCount == 1)
        #expect(try await harness.job(late.jobID).state == .queued)
    }

    @Test("a second run() of the same worker returns at once; the first keeps working")
    func runTwice() async throws {
        let harness = Harness()
        let worker = harness.worker()
        let first = Task { try? await worker.run() }
        await harness.waitForSleepers(1)  // the first loop idles on the clock
        let secondReturned = Mutex(false)
        let second = Task {
            try? await worker.run()
            secondReturned.withLock { $0 = true }
        }
        await eventually("the second run() returns") { secondReturned.withLock { $0 } }
        await second.value

        let ticket = try await harness.request()
        harness.clock.advance(by: .seconds(1))  // past the idle delay: the first loop polls again
        await eventually("the first loop runs the export") { await harness.notifier.sent.count == 1 }
        #expect(try await harness.job(ticket.jobID).state == .succeeded)
        worker.shutdown()
        await first.value
    }
}

/// Counts page calls in flight at once.
final class CountingSource: MembershipSource {
    private let inner: any MembershipSource
    private let counts = Mutex((current: 0, max: 0))

    init(_ inner: any MembershipSource) { self.inner = inner }

    var maxInFlight: Int { counts.withLock { $0.max } }

    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        counts.withLock { counts in
            counts.current += 1
            counts.max = max(counts.max, counts.current)
        }
        defer { counts.withLock { $0.current -= 1 } }
        for _ in 0..<10 { await Task.yield() }  // give other exports a chance to overlap
        return try await inner.memberships(of: owner, after: cursor, limit: limit)
    }
}

/// Waits (bounded, by yielding) until `condition` holds; records an issue if it never does.
func eventually(_ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async -> Bool) async {
    for _ in 0..<200_000 {
        if await condition() { return }
        await Task.yield()
    }
    Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
}
