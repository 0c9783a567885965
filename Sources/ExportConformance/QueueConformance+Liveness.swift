import ExportCore
import Foundation

extension QueueConformance {
    /// `Queue/jobsWithLiveMessages(among:)` lists a job while its message waits, is delayed or is
    /// leased (an expired lease included), and no longer once it is acknowledged or dead-lettered. A
    /// queue that answers `nil` (it cannot tell) passes trivially.
    func liveness() async throws {
        let queue = try await makeQueue()
        let waiting = try message()
        let delayed = try message()
        let leased = try message()
        let acknowledged = try message()
        let deadLettered = try message()
        let never = try message()
        let all: Set<JobID> = Set([waiting, delayed, leased, acknowledged, deadLettered, never].map(\.jobID))
        guard try await queue.jobsWithLiveMessages(among: all) != nil else { return }
        // Received one at a time so each lands where this case wants it.
        try await queue.enqueue(acknowledged)
        try await queue.acknowledge(try await receiveOne(queue, "a message to acknowledge").receipt)
        try await queue.enqueue(deadLettered)
        try await queue.deadLetter(try await receiveOne(queue, "a message to dead-letter").receipt, reason: "liveness")
        try await queue.enqueue(leased)
        let lease = try await receiveOne(queue, "a message to hold")
        try check(lease.message == leased, "received \(lease.message) instead of the one enqueued")
        try await queue.enqueue(waiting)
        try await queue.enqueue(delayed, delay: timeout * 100)
        let live = try await queue.jobsWithLiveMessages(among: all)
        let expected: Set<JobID> = [waiting.jobID, delayed.jobID, leased.jobID]
        try check(live == expected, "jobsWithLiveMessages answered \(live.map { $0.sorted() } ?? []) instead of \(expected.sorted())")
        let subset = try await queue.jobsWithLiveMessages(among: [leased.jobID, never.jobID])
        try check(subset == [leased.jobID], "jobsWithLiveMessages looked beyond the jobs it was asked about: \(subset ?? [])")
        // A lease that ran out is still live: the message comes back by itself.
        try await advance(timeout + configuration.margin)
        let afterExpiry = try await queue.jobsWithLiveMessages(among: [leased.jobID])
        try check(afterExpiry == [leased.jobID], "a message whose lease ran out is not live")
    }
}
