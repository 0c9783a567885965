import ExportCore
import Foundation

extension SQSQueue {
    /// The long poll used to read the dead-letter queue, in seconds. A short poll (0) asks only a
    /// sample of SQS's servers and may answer empty while messages remain, which would end a listing
    /// or a redrive early; a long poll asks them all, so an empty answer means the queue is drained
    /// (of visible messages). Each listing or redrive therefore ends with one empty wait this long.
    static let deadLetterPollWait = 1

    /// Lists dead letters, oldest first, leaving them in the dead-letter queue.
    ///
    /// - Parameters:
    ///   - limit: The most to return.
    /// - Returns: The dead letters.
    /// - Throws: `ExportError` when SQS fails.
    public func deadLetters(limit: Int) async throws -> [DeadLetter] {
        var found: [String: DeadLetter] = [:]
        var handles: [String] = []
        defer {
            let queue = configuration.deadLetterQueueURL
            let release = handles
            if !release.isEmpty { Task { try? await self.changeVisibilityBatch(release, seconds: 0, queue: queue) } }
        }
        while found.count < limit {
            let messages = try await receiveRaw(from: configuration.deadLetterQueueURL, max: 10, visibility: 30, wait: Self.deadLetterPollWait)
            if messages.isEmpty { break }
            var fresh = 0
            for message in messages {
                guard let handle = message["ReceiptHandle"]?.stringValue else { continue }
                handles.append(handle)
                guard let letter = Self.deadLetter(from: message), found[letter.id.rawValue] == nil else { continue }
                found[letter.id.rawValue] = letter
                fresh += 1
            }
            if fresh == 0 { break }
        }
        try await changeVisibilityBatch(handles, seconds: 0, queue: configuration.deadLetterQueueURL)
        handles = []
        return Array(found.values.sorted { ($0.deadLetteredAt, $0.id.rawValue) < ($1.deadLetteredAt, $1.id.rawValue) }.prefix(limit))
    }

    /// Moves dead letters back to the work queue as fresh messages (same ids, receive count 0).
    ///
    /// - Parameters:
    ///   - ids: The dead letters to move; `nil` for all.
    /// - Returns: How many were moved.
    /// - Throws: `ExportError` when SQS fails.
    @discardableResult
    public func redrive(_ ids: [MessageID]?) async throws -> Int {
        let wanted = ids.map { Set($0.map(\.rawValue)) }
        var moved = 0
        var skipped: [String] = []
        var seen: Set<String> = []
        while true {
            let messages = try await receiveRaw(from: configuration.deadLetterQueueURL, max: 10, visibility: 60, wait: Self.deadLetterPollWait)
            if messages.isEmpty { break }
            var entries: [JSONValue] = []
            var deletions: [String] = []
            var progress = false
            for message in messages {
                guard let handle = message["ReceiptHandle"]?.stringValue else { continue }
                guard let letter = Self.deadLetter(from: message),
                      wanted?.contains(letter.id.rawValue) ?? true, !seen.contains(letter.id.rawValue)
                else {
                    skipped.append(handle)
                    continue
                }
                seen.insert(letter.id.rawValue)
                progress = true
                let body = String(decoding: (try? JSONEncoder().encode(letter.message)) ?? Data(), as: UTF8.self)
                entries.append([
                    "Id": .string("m\(entries.count)"), "MessageBody": .string(body),
                    "MessageAttributes": ["exportMessageID": ["DataType": "String", "StringValue": .string(letter.id.rawValue)]],
                ])
                deletions.append(handle)
            }
            if !entries.isEmpty {
                let result = try await client.json(target: "AmazonSQS.SendMessageBatch", [
                    "QueueUrl": .string(configuration.queueURL), "Entries": .array(entries),
                ])
                let failed = Set((result["Failed"]?.arrayValue ?? []).compactMap { $0["Id"]?.stringValue })
                let sent = deletions.enumerated().filter { !failed.contains("m\($0.offset)") }.map(\.element)
                try await deleteBatch(sent, queue: configuration.deadLetterQueueURL)
                skipped += deletions.enumerated().filter { failed.contains("m\($0.offset)") }.map(\.element)
                moved += sent.count
            }
            if !progress { break }
        }
        try await changeVisibilityBatch(skipped, seconds: 0, queue: configuration.deadLetterQueueURL)
        return moved
    }

    static func deadLetter(from message: JSONValue) -> DeadLetter? {
        guard let body = message["Body"]?.stringValue,
              let decoded = try? JSONDecoder().decode(QueueMessage.self, from: Data(body.utf8))
        else { return nil }
        let id = attribute(message, "exportMessageID") ?? message["MessageId"]?.stringValue ?? ""
        let count = attribute(message, "receiveCount").flatMap(Int.init)
            ?? message["Attributes"]?["ApproximateReceiveCount"]?.stringValue.flatMap(Int.init) ?? 0
        let at = attribute(message, "deadLetteredAt").flatMap(Double.init)
            ?? message["Attributes"]?["SentTimestamp"]?.stringValue.flatMap(Double.init).map { $0 / 1000 } ?? 0
        return DeadLetter(
            id: MessageID(id), message: decoded,
            reason: attribute(message, "reason") ?? "exceeded the redrive policy's receive count",
            receiveCount: count, deadLetteredAt: Date(timeIntervalSince1970: at)
        )
    }
}

extension SQSQueue {
    /// SQS cannot look messages up by content, so this answers `nil`: the `Reconciler` then queues a
    /// job again on time alone (after `Reconciler.Configuration.requeueAfter` without any change to
    /// its record), and a duplicate that makes is a no-op at the worker's claim, acknowledged at once.
    ///
    /// - Parameters:
    ///   - jobs: The jobs asked about.
    /// - Returns: `nil`.
    public func jobsWithLiveMessages(among jobs: Set<JobID>) async throws -> Set<JobID>? { nil }
}
