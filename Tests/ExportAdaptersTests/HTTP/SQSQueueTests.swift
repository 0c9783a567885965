import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("SQSQueue against moto", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct SQSQueueTests {
    static func makeQueue(clock: any ExportClock = SystemClock()) async throws -> SQSQueue {
        let peer = try await MotoServer.peer()
        let aws = MotoServer.configuration(peer)
        let configuration = try await SQSQueue.createQueues(named: MotoServer.uniqueName("jobs"), aws: aws)
        return SQSQueue(configuration: configuration, aws: aws, clock: clock)
    }

    @Test("Enqueue, lease, release, re-lease with a growing receive count, extend, acknowledge")
    func leaseCycle() async throws {
        let queue = try await Self.makeQueue()
        let job = JobID.random()
        let id = try await queue.enqueue(QueueMessage(jobID: job))
        let first = try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .seconds(1))
        #expect(first.map(\.id) == [id])
        #expect(first.first?.message.jobID == job)
        #expect(first.first?.receiveCount == 1)
        #expect(try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty, "leased messages are hidden")

        let delivery = try #require(first.first)
        try await queue.release(delivery.receipt, delay: .zero)
        let second = try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(1))
        #expect(second.map(\.id) == [id])
        #expect(second.first?.receiveCount == 2)
        #expect(second.first?.receipt != delivery.receipt)

        let lease = try #require(second.first)
        let extended = try await queue.extendLease(lease.receipt, by: .seconds(120))
        #expect(extended > lease.leaseExpiresAt)
        try await queue.acknowledge(lease.receipt)
        #expect(try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
    }

    @Test("A delayed message is not delivered before its delay")
    func delay() async throws {
        let queue = try await Self.makeQueue()
        try await queue.enqueue(QueueMessage(jobID: JobID.random()), delay: .seconds(60))
        try await queue.enqueue(QueueMessage(jobID: JobID.random()), delay: .seconds(3600))
        #expect(try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
    }

    @Test("A lease that ran out on the adapter's clock is refused with leaseLost, without touching SQS")
    func leaseLost() async throws {
        let clock = ManualClock(now: Date())
        let queue = try await Self.makeQueue(clock: clock)
        try await queue.enqueue(QueueMessage(jobID: JobID.random()))
        let delivery = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(1)).first)
        clock.advance(by: .seconds(31))
        for operation in ["ack", "release", "extend", "deadLetter"] {
            let error = await #expect(throws: ExportError.self, "\(operation)") {
                switch operation {
                case "ack": try await queue.acknowledge(delivery.receipt)
                case "release": try await queue.release(delivery.receipt, delay: .zero)
                case "extend": try await queue.extendLease(delivery.receipt, by: .seconds(30))
                default: try await queue.deadLetter(delivery.receipt, reason: "x")
                }
            }
            #expect(error?.code == .leaseLost)
        }
        #expect(try await queue.deadLetters(limit: 10).isEmpty)
    }

    @Test("Dead letters keep id, reason and receive count; listing does not consume them; redrive makes them fresh")
    func deadLetters() async throws {
        let queue = try await Self.makeQueue()
        let kept = try await queue.enqueue(QueueMessage(jobID: JobID.random()))
        let moved = try await queue.enqueue(QueueMessage(jobID: JobID.random()))
        let deliveries = try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .seconds(1))
        #expect(Set(deliveries.map(\.id)) == [kept, moved])
        for delivery in deliveries { try await queue.deadLetter(delivery.receipt, reason: "boom: \(delivery.id)") }
        #expect(try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)

        let letters = try await queue.deadLetters(limit: 10)
        #expect(Set(letters.map(\.id)) == [kept, moved])
        #expect(letters.allSatisfy { $0.reason == "boom: \($0.id)" && $0.receiveCount == 1 })
        #expect(try await queue.deadLetters(limit: 10).count == 2, "listing leaves them in place")
        #expect(try await queue.deadLetters(limit: 1).count == 1)

        #expect(try await queue.redrive([moved]) == 1)
        #expect(try await queue.deadLetters(limit: 10).map(\.id) == [kept])
        let again = try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .seconds(1))
        #expect(again.map(\.id) == [moved])
        #expect(again.first?.receiveCount == 1)
        #expect(try await queue.redrive(nil) == 1)
        #expect(try await queue.deadLetters(limit: 10).isEmpty)
    }

    @Test("A queue that does not exist is a permanent notFound")
    func missingQueue() async throws {
        let peer = try await MotoServer.peer()
        let url = "\(peer.baseURL.absoluteString)/123456789012/\(MotoServer.uniqueName("nope"))"
        let queue = SQSQueue(configuration: .init(queueURL: url, deadLetterQueueURL: url), aws: MotoServer.configuration(peer))
        let error = await #expect(throws: ExportError.self) { try await queue.enqueue(QueueMessage(jobID: JobID.random())) }
        #expect(error?.code == .notFound)
        #expect(error?.isRetryable == false)
    }
}
