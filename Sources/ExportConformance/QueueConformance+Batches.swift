import ExportCore
import Foundation

extension QueueConformance {
    func batches() async throws {
        let queue = try await makeQueue()
        var sent: Set<JobID> = []
        for _ in 0..<5 {
            let message = try message()
            sent.insert(message.jobID)
            try await queue.enqueue(message)
        }
        var received: [Delivery] = []
        for _ in 0..<(5 * configuration.receiveAttempts) where received.count < 5 {
            let batch = try await queue.receive(max: 2, visibilityTimeout: timeout, waitTime: configuration.receiveWaitTime)
            try check(batch.count <= 2, "receive(max: 2) returned \(batch.count) messages")
            received += batch
        }
        try check(received.count == 5, "5 enqueued messages gave \(received.count) deliveries within their lease")
        try check(Set(received.map(\.message.jobID)) == sent, "the deliveries are not the enqueued messages")
        try check(Set(received.map(\.id)).count == 5, "a message was delivered twice while leased")
        try await expectNothing(queue, "every message is leased")
        for delivery in received { try await queue.acknowledge(delivery.receipt) }
    }

    func concurrentReceivers() async throws {
        let queue = try await makeQueue()
        var sent: Set<JobID> = []
        for _ in 0..<12 {
            let message = try message()
            sent.insert(message.jobID)
            try await queue.enqueue(message)
        }
        let timeout = self.timeout
        let wait = configuration.receiveWaitTime
        var received: [Delivery] = []
        for _ in 0..<configuration.receiveAttempts where received.count < sent.count {
            received += try await withThrowingTaskGroup(of: [Delivery].self) { group in
                for _ in 0..<6 {
                    group.addTask { try await queue.receive(max: 3, visibilityTimeout: timeout, waitTime: wait) }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
        let ids = received.map(\.id)
        try check(Set(ids).count == ids.count, "concurrent receivers were given the same message while it was leased")
        try check(Set(received.map(\.message.jobID)) == sent, "concurrent receivers got \(received.count) of \(sent.count) messages")
        for delivery in received { try await queue.acknowledge(delivery.receipt) }
    }
}
