import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("FileQueue")
struct FileQueueTests {
    static let message = QueueMessage(jobID: JobID("job-1")!)

    @Test("enqueue, receive under a lease, acknowledge")
    func basicFlow() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let clock = ManualClock()
        let queue = try FileQueue(directory: directory.url, clock: clock)
        let id = try await queue.enqueue(Self.message)
        let deliveries = try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .zero)
        let delivery = try #require(deliveries.first)
        #expect(deliveries.count == 1)
        #expect(delivery.id == id)
        #expect(delivery.message == Self.message)
        #expect(delivery.receiveCount == 1)
        #expect(delivery.leaseExpiresAt == clock.now().addingTimeInterval(30))
        #expect(try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
        try await queue.acknowledge(delivery.receipt)
        clock.advance(by: .seconds(60))
        #expect(try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
        await expectExportError(.leaseLost) { try await queue.acknowledge(delivery.receipt) }
        #expect(directory.list("tmp").isEmpty)
    }

    @Test("a delayed message is not delivered before its delay")
    func delay() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let clock = ManualClock()
        let queue = try FileQueue(directory: directory.url, clock: clock)
        try await queue.enqueue(Self.message, delay: .seconds(10))
        #expect(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
        clock.advance(by: .milliseconds(9_999))
        #expect(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
        clock.advance(by: .milliseconds(1))
        #expect(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).count == 1)
    }

    @Test("an expired lease returns the message; the old receipt is then stale; counts survive a restart")
    func leaseExpiry() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let clock = ManualClock()
        let queue = try FileQueue(directory: directory.url, clock: clock)
        try await queue.enqueue(Self.message)
        let first = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        clock.advance(by: .seconds(29))
        #expect(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
        clock.advance(by: .seconds(1))
        // A new process (a new instance) picks it up with the count kept on disk.
        let restarted = try FileQueue(directory: directory.url, clock: clock)
        let second = try #require(try await restarted.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        #expect(second.id == first.id)
        #expect(second.receiveCount == 2)
        #expect(second.receipt != first.receipt)
        await expectExportError(.leaseLost) { try await queue.acknowledge(first.receipt) }
        await expectExportError(.leaseLost) { try await queue.release(first.receipt, delay: .zero) }
        await expectExportError(.leaseLost) { try await queue.extendLease(first.receipt, by: .seconds(5)) }
        await expectExportError(.leaseLost) { try await queue.deadLetter(first.receipt, reason: "late") }
        // The new holder is unaffected.
        try await restarted.acknowledge(second.receipt)
    }

    @Test("extendLease keeps the message hidden past the first expiry")
    func extend() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let clock = ManualClock()
        let queue = try FileQueue(directory: directory.url, clock: clock)
        try await queue.enqueue(Self.message)
        let delivery = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        clock.advance(by: .seconds(20))
        let expiry = try await queue.extendLease(delivery.receipt, by: .seconds(30))
        #expect(expiry == clock.now().addingTimeInterval(30))
        clock.advance(by: .seconds(20))
        #expect(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
        try await queue.acknowledge(delivery.receipt)
    }

    @Test("release makes the message visible again after its delay")
    func release() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let clock = ManualClock()
        let queue = try FileQueue(directory: directory.url, clock: clock)
        try await queue.enqueue(Self.message)
        let delivery = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        try await queue.release(delivery.receipt, delay: .seconds(5))
        #expect(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
        clock.advance(by: .seconds(5))
        let again = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        #expect(again.receiveCount == 2)
    }

    @Test("dead letters keep reason and count; redrive returns them fresh")
    func deadLetters() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let clock = ManualClock()
        let queue = try FileQueue(directory: directory.url, clock: clock)
        let id = try await queue.enqueue(Self.message)
        let first = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(1), waitTime: .zero).first)
        clock.advance(by: .seconds(2))
        _ = first
        let second = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        try await queue.deadLetter(second.receipt, reason: "export failed: disk on fire")
        #expect(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
        let letters = try await queue.deadLetters(limit: 10)
        #expect(letters.count == 1)
        #expect(letters.first?.id == id)
        #expect(letters.first?.reason == "export failed: disk on fire")
        #expect(letters.first?.receiveCount == 2)
        #expect(letters.first?.deadLetteredAt == clock.now())
        #expect(try await queue.redrive([MessageID("ffff")]) == 0)
        #expect(try await queue.redrive(nil) == 1)
        #expect(try await queue.deadLetters(limit: 10).isEmpty)
        let fresh = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        #expect(fresh.receiveCount == 1)
        #expect(fresh.message == Self.message)
    }

    @Test("corrupt spool files are moved aside; other messages are still delivered")
    func corruptFiles() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let clock = ManualClock()
        let queue = try FileQueue(directory: directory.url, clock: clock)
        try await queue.enqueue(Self.message)
        try directory.write("garbage", to: "ready/000000000000001_abcdef.msg")
        try directory.write("{}", to: "ready/not-a-spool-name")
        try directory.write("{\"id\":", to: "leased/abcd_1234.msg")
        let deliveries = try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .zero)
        #expect(deliveries.map(\.message) == [Self.message])
        #expect(directory.list("corrupt").count == 3)
        #expect(directory.list("ready").isEmpty)
    }

    @Test("hostile receipts are stale, never paths")
    func hostileReceipts() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let queue = try FileQueue(directory: directory.url, clock: ManualClock())
        for receipt in ["../ready/x", "/etc/passwd", "", "a\0b", String(repeating: "a", count: 500)] {
            await expectExportError(.leaseLost) { try await queue.acknowledge(LeaseReceipt(receipt)) }
        }
    }

    @Test("receivers on several instances share the spool: every message exactly once")
    func sharedSpool() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let clock = ManualClock()
        let producer = try FileQueue(directory: directory.url, clock: clock)
        var expected: Set<JobID> = []
        for index in 0..<60 {
            let jobID = JobID("job-\(index)")!
            expected.insert(jobID)
            try await producer.enqueue(QueueMessage(jobID: jobID))
        }
        let consumers = try (0..<4).map { _ in try FileQueue(directory: directory.url, clock: clock) }
        let received = try await withThrowingTaskGroup(of: [JobID].self) { group in
            for consumer in consumers {
                group.addTask {
                    var mine: [JobID] = []
                    while true {
                        let batch = try await consumer.receive(max: 3, visibilityTimeout: .seconds(300), waitTime: .zero)
                        if batch.isEmpty { return mine }
                        for delivery in batch {
                            mine.append(delivery.message.jobID)
                            try await consumer.acknowledge(delivery.receipt)
                        }
                    }
                }
            }
            return try await group.reduce(into: [JobID]()) { $0 += $1 }
        }
        #expect(received.count == 60)
        #expect(Set(received) == expected)
    }

    @Test("long polling waits on the injected clock and returns when a message arrives")
    func longPolling() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let clock = ManualClock()
        let queue = try FileQueue(directory: directory.url, clock: clock, pollInterval: .seconds(1))
        let receiver = Task { try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(20)) }
        while clock.sleeperCount == 0 { await Task.yield() }
        try await queue.enqueue(Self.message)
        clock.advance(by: .seconds(1))
        let deliveries = try await receiver.value
        #expect(deliveries.count == 1)

        let empty = Task { try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(3)) }
        for _ in 0..<3 {
            while clock.sleeperCount == 0 { await Task.yield() }
            clock.advance(by: .seconds(1))
        }
        #expect(try await empty.value.isEmpty)
    }
}
