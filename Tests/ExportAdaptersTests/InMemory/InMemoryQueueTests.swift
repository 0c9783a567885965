import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("InMemoryQueue")
struct InMemoryQueueTests {
    let clock = ManualClock()

    @Test func longPollReturnsAsSoonAsAMessageIsEnqueued() async throws {
        let queue = InMemoryQueue(clock: clock)
        let receiving = Task { try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(20)) }
        await eventually("the receive waits on the clock") { clock.sleeperCount == 1 }
        let start = clock.now()
        try await queue.enqueue(Fixtures.message("j1"))
        let deliveries = try await receiving.value
        #expect(deliveries.map(\.message) == [Fixtures.message("j1")])
        #expect(clock.now() == start, "no time had to pass")
        #expect(clock.sleeperCount == 0, "the wait's timer was cancelled")
    }

    @Test func aHugeWaitTimeDoesNotTrap() async throws {
        let clock = ManualClock()
        let queue = InMemoryQueue(clock: clock)
        let polling = Task { try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(Int64.max)) }
        await eventually("the receive waits on the clock") { clock.sleeperCount == 1 }
        try await queue.enqueue(QueueMessage(jobID: JobID("job-1")!))
        #expect(try await polling.value.count == 1)
    }

    @Test func longPollGivesUpWhenTheWaitTimePasses() async throws {
        let queue = InMemoryQueue(clock: clock)
        let receiving = Task { try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(20)) }
        await eventually("the receive waits on the clock") { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(20))
        #expect(try await receiving.value.isEmpty)
    }

    @Test func longPollWakesWhenADelayedMessageBecomesVisible() async throws {
        let queue = InMemoryQueue(clock: clock)
        try await queue.enqueue(Fixtures.message("j1"), delay: .seconds(5))
        let receiving = Task { try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(20)) }
        await eventually("the receive waits on the clock") { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(5))
        #expect(try await receiving.value.count == 1)
    }

    @Test func longPollWakesWhenAdvancedExactlyByAFractionalDelay() async throws {
        let queue = InMemoryQueue(clock: clock)
        clock.advance(by: .milliseconds(333))
        try await queue.enqueue(Fixtures.message("j1"), delay: .milliseconds(1234))
        let receiving = Task { try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(20)) }
        await eventually("the receive waits on the clock") { clock.sleeperCount == 1 }
        clock.advance(by: .milliseconds(1234))
        #expect(try await receiving.value.count == 1)
    }

    @Test func zeroWaitTimeReturnsAtOnce() async throws {
        let queue = InMemoryQueue(clock: clock)
        #expect(try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
        #expect(clock.sleeperCount == 0)
    }

    @Test func cancellingAWaitingReceiveReturnsEmpty() async throws {
        let queue = InMemoryQueue(clock: clock)
        let receiving = Task { try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(20)) }
        await eventually("the receive waits on the clock") { clock.sleeperCount == 1 }
        receiving.cancel()
        #expect(try await receiving.value.isEmpty)
        try await queue.enqueue(Fixtures.message("j1"))
        #expect(await queue.visibleCount == 1, "the cancelled receive took nothing")
    }

    @Test func inspectionFollowsTheMessagesThroughTheirStates() async throws {
        let queue = InMemoryQueue(clock: clock)
        let first = try await queue.enqueue(Fixtures.message("j1"))
        try await queue.enqueue(Fixtures.message("j2"), delay: .seconds(10))
        #expect(await queue.visibleCount == 1)
        #expect(await queue.delayedCount == 1)
        #expect(await queue.pendingMessages == [Fixtures.message("j1"), Fixtures.message("j2")])

        let delivery = try #require(try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        #expect(delivery.leaseExpiresAt == clock.now().addingTimeInterval(30))
        #expect(await queue.inFlightCount == 1)
        #expect(await queue.visibleCount == 0)
        #expect(await queue.receiveCount(of: first) == 1)
        #expect(await queue.visibleAt(first) == delivery.leaseExpiresAt)

        try await queue.deadLetter(delivery.receipt, reason: "poison")
        #expect(await queue.allDeadLetters.map(\.reason) == ["poison"])
        #expect(await queue.allDeadLetters.first?.deadLetteredAt == clock.now())
        #expect(await queue.receiveCount(of: first) == nil)
        #expect(await queue.pendingMessages == [Fixtures.message("j2")])
    }

    @Test func aLeaseThatRanOutCannotBeUsedEvenBeforeRedelivery() async throws {
        let queue = InMemoryQueue(clock: clock)
        try await queue.enqueue(Fixtures.message("j1"))
        let delivery = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        clock.advance(by: .seconds(30))
        let error = await #expect(throws: ExportError.self) { try await queue.acknowledge(delivery.receipt) }
        #expect(error?.code == .leaseLost)
        #expect(await queue.visibleCount == 1)
    }

    @Test(arguments: [0, 11])
    func receiveRejectsABatchSizeOutsideOneToTen(max: Int) async throws {
        let queue = InMemoryQueue(clock: clock)
        let error = await #expect(throws: ExportError.self) {
            try await queue.receive(max: max, visibilityTimeout: .seconds(30), waitTime: .zero)
        }
        #expect(error?.code == .invalidRequest)
    }

    @Test func negativeDelaysAndUnknownReceiptsAreTypedErrors() async throws {
        let queue = InMemoryQueue(clock: clock)
        let negative = await #expect(throws: ExportError.self) {
            try await queue.enqueue(Fixtures.message("j1"), delay: .seconds(-1))
        }
        #expect(negative?.code == .invalidRequest)
        let unknown = await #expect(throws: ExportError.self) { try await queue.acknowledge(LeaseReceipt("forged")) }
        #expect(unknown?.code == .leaseLost)
    }
}
