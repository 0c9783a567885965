import ExportAdapters
import ExportCore
import Foundation
import Testing

/// States a process killed half-way through a two-step move leaves behind, written by hand.
@Suite("FileQueue after a crash mid-move")
struct FileQueueCrashTests {
    static let message = QueueMessage(jobID: JobID("job-1")!)

    /// Every spool file of the queue, as `directory/name`.
    static func files(_ directory: TestDirectory) -> [String] {
        ["ready", "leased", "dead"].flatMap { sub in directory.list(sub).map { sub + "/" + $0 } }
    }

    @Test("a receive claims with one rename: the message is in leased/ only, with its lease recorded")
    func claimIsOneFile() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let queue = try FileQueue(directory: directory.url, clock: ManualClock())
        let id = try await queue.enqueue(Self.message)
        let delivery = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        #expect(Self.files(directory) == ["leased/\(delivery.receipt.rawValue).msg"])
        let content = try directory.read("leased/\(delivery.receipt.rawValue).msg")
        #expect(content.contains("\"receiveCount\":1") && content.contains("leaseExpiresAt") && content.contains(id.rawValue))
    }

    @Test("a claim killed before recording its lease: delivered again at once, its receive count raised")
    func interruptedClaim() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let clock = ManualClock()
        let queue = try FileQueue(directory: directory.url, clock: clock)
        let id = try await queue.enqueue(Self.message)
        let first = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        try await queue.release(first.receipt, delay: .zero)
        // The message is in ready/ with receive count 1; a receiver renames it into leased/ and dies.
        let ready = try #require(directory.list("ready").first)
        try FileManager.default.moveItem(atPath: directory.path + "/ready/" + ready, toPath: directory.path + "/leased/" + id.rawValue + "_dead0123.msg")

        let again = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        #expect(again.id == id)
        // 1 (first) + 1 (the interrupted claim, counted conservatively) + 1 (this one).
        #expect(again.receiveCount == 3)
        #expect(Self.files(directory) == ["leased/\(again.receipt.rawValue).msg"])
    }

    @Test("a dead-lettering killed after recording its reason is finished by the next receive")
    func interruptedDeadLetter() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let clock = ManualClock()
        let queue = try FileQueue(directory: directory.url, clock: clock)
        let id = try await queue.enqueue(Self.message)
        let delivery = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        // Record the reason in the leased file, as the first step of deadLetter does, then "die".
        let path = "leased/\(delivery.receipt.rawValue).msg"
        var record = try #require(try JSONSerialization.jsonObject(with: Data(directory.read(path).utf8)) as? [String: Any])
        record["reason"] = "poison"
        record["deadLetteredAt"] = 0.0
        record["leaseExpiresAt"] = nil
        try directory.write(String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self), to: path)

        #expect(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).isEmpty)
        let letters = try await queue.deadLetters(limit: 10)
        #expect(letters.map(\.id) == [id])
        #expect(letters.first?.reason == "poison")
        #expect(letters.first?.receiveCount == 1)
        #expect(Self.files(directory).count == 1)
    }
}
