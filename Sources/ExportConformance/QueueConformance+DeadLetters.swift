import ExportCore
import Foundation

extension QueueConformance {
    func deadLetters() async throws {
        let queue = try await makeQueue()
        let sent = try message()
        try await queue.enqueue(sent)
        let first = try await receiveOne(queue, "an enqueued message")
        try await queue.release(first.receipt, delay: .zero)
        let delivery = try await receiveOne(queue, "a released message")
        try await queue.deadLetter(delivery.receipt, reason: "conformance check")
        try await expectNothing(queue, "a dead letter must leave the queue")
        try await advance(timeout + configuration.margin)
        try await expectNothing(queue, "a dead letter must not come back when its lease would have expired")

        let letters = try await queue.deadLetters(limit: 1000)
        let letter = try require(letters.first { $0.id == delivery.id }, "the dead letter is not listed")
        try check(letter.message == sent, "the dead letter holds \(letter.message), not \(sent)")
        try check(letter.reason == "conformance check", "the dead letter's reason is \(String(reflecting: letter.reason))")
        try check(letter.receiveCount == 2, "the dead letter must keep receive count 2, got \(letter.receiveCount)")
        let one = try await queue.deadLetters(limit: 1)
        try check(one.count == 1, "deadLetters(limit: 1) returned \(one.count)")

        let moved = try await queue.redrive([letter.id])
        try check(moved == 1, "redriving one dead letter moved \(moved)")
        let redriven = try await receiveOne(queue, "a redriven message")
        try check(redriven.message == sent, "the redriven message is \(redriven.message), not \(sent)")
        try check(redriven.receiveCount == 1, "a redriven message starts fresh: receive count 1, got \(redriven.receiveCount)")
        let remaining = try await queue.deadLetters(limit: 1000)
        try check(!remaining.contains { $0.id == letter.id }, "a redriven dead letter is still listed")

        // Dead-letter two more, then redrive them all at once.
        try await queue.deadLetter(redriven.receipt, reason: "again")
        try await queue.enqueue(try message())
        let other = try await receiveOne(queue, "a second message")
        try await queue.deadLetter(other.receipt, reason: "again")
        let all = try await queue.redrive(nil)
        try check(all == 2, "redrive(nil) moved \(all) dead letters, expected 2")
        let empty = try await queue.deadLetters(limit: 1000)
        try check(empty.isEmpty, "dead letters remain after redrive(nil)")
        var back: Set<JobID> = []
        for _ in 0..<2 {
            let delivery = try await receiveOne(queue, "a message redriven by redrive(nil)")
            back.insert(delivery.message.jobID)
            try await queue.acknowledge(delivery.receipt)
        }
        try check(back == [sent.jobID, other.message.jobID], "redrive(nil) did not bring back both messages")
    }
}
