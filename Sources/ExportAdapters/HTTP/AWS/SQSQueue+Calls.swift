import ExportCore
import Foundation

extension SQSQueue {
    func send(_ message: QueueMessage, id: MessageID, to queue: String, delay: Duration, extra: [String: String]) async throws {
        let body = String(decoding: try JSONEncoder().encode(message), as: UTF8.self)
        var attributes: [String: JSONValue] = ["exportMessageID": ["DataType": "String", "StringValue": .string(id.rawValue)]]
        for (name, value) in extra { attributes[name] = ["DataType": "String", "StringValue": .string(value)] }
        let seconds = Self.wholeSeconds(delay, range: 0...Int.max)
        if seconds > 900 {
            let notBefore = client.clock.now().timeIntervalSince1970 + DurationSeconds.of(delay)
            attributes["notBefore"] = ["DataType": "String", "StringValue": .string(String(notBefore))]
        }
        _ = try await client.json(target: "AmazonSQS.SendMessage", [
            "QueueUrl": .string(queue), "MessageBody": .string(body), "DelaySeconds": .number(Double(min(seconds, 900))),
            "MessageAttributes": .object(attributes),
        ])
    }

    func receiveRaw(from queue: String, max: Int, visibility: Int, wait: Int) async throws -> [JSONValue] {
        let result = try await client.json(target: "AmazonSQS.ReceiveMessage", [
            "QueueUrl": .string(queue), "MaxNumberOfMessages": .number(Double(max)),
            "VisibilityTimeout": .number(Double(visibility)), "WaitTimeSeconds": .number(Double(wait)),
            "AttributeNames": ["All"], "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
            "MessageAttributeNames": ["All"],
        ], timeout: Swift.max(client.configuration.timeout, Duration.seconds(wait + 10)))
        return result["Messages"]?.arrayValue ?? []
    }

    func deleteMessage(_ handle: String, queue: String) async throws {
        _ = try await client.json(
            target: "AmazonSQS.DeleteMessage", ["QueueUrl": .string(queue), "ReceiptHandle": .string(handle)],
            refine: Self.receiptRejection
        )
    }

    func changeVisibility(_ handle: String, seconds: Int, queue: String) async throws {
        _ = try await client.json(target: "AmazonSQS.ChangeMessageVisibility", [
            "QueueUrl": .string(queue), "ReceiptHandle": .string(handle), "VisibilityTimeout": .number(Double(seconds)),
        ], refine: Self.receiptRejection)
    }

    /// Reports a receipt handle SQS no longer accepts as a lost lease.
    ///
    /// SQS answers an expired receipt with `InvalidParameterValue` ("Value … for parameter
    /// ReceiptHandle is invalid. Reason: The receipt handle has expired.", or "The receipt handle
    /// "…" is not valid for this queue."), not with `ReceiptHandleIsInvalid`; either way another
    /// consumer may hold the message now. The handle (several hundred characters) comes before the
    /// words that say so, past the 300 characters the mapped error's message keeps, so this looks at
    /// the service's whole message.
    @Sendable
    static func receiptRejection(_ error: ExportError, serviceCode: String, message: String) -> ExportError {
        guard error.code == .invalidRequest, isReceiptRejection(serviceCode: serviceCode, message: message) else { return error }
        return ExportError(.leaseLost, error.message, cause: error)
    }

    /// Whether an `InvalidParameterValue` answer is about the receipt handle.
    static func isReceiptRejection(serviceCode: String, message: String) -> Bool {
        let lowered = message.lowercased()
        return serviceCode == "InvalidParameterValue" && (lowered.contains("receipthandle") || lowered.contains("receipt handle"))
    }

    func changeVisibilityBatch(_ handles: [String], seconds: Int, queue: String) async throws {
        for start in stride(from: 0, to: handles.count, by: 10) {
            let entries = handles[start..<min(start + 10, handles.count)].enumerated().map { index, handle -> JSONValue in
                ["Id": .string("h\(index)"), "ReceiptHandle": .string(handle), "VisibilityTimeout": .number(Double(seconds))]
            }
            _ = try await client.json(target: "AmazonSQS.ChangeMessageVisibilityBatch", [
                "QueueUrl": .string(queue), "Entries": .array(entries),
            ])
        }
    }

    func deleteBatch(_ handles: [String], queue: String) async throws {
        for start in stride(from: 0, to: handles.count, by: 10) {
            let entries = handles[start..<min(start + 10, handles.count)].enumerated().map { index, handle -> JSONValue in
                ["Id": .string("d\(index)"), "ReceiptHandle": .string(handle)]
            }
            _ = try await client.json(target: "AmazonSQS.DeleteMessageBatch", ["QueueUrl": .string(queue), "Entries": .array(entries)])
        }
    }

    /// Sends a received message to the dead-letter queue and deletes it (for bodies that cannot be read).
    func moveToDeadLetters(_ message: JSONValue, reason: String, handle: String) async throws {
        let body = message["Body"]?.stringValue ?? ""
        let id = Self.attribute(message, "exportMessageID") ?? message["MessageId"]?.stringValue ?? UUID().uuidString
        _ = try await client.json(target: "AmazonSQS.SendMessage", [
            "QueueUrl": .string(configuration.deadLetterQueueURL), "MessageBody": .string(body.isEmpty ? "{}" : body),
            "MessageAttributes": [
                "exportMessageID": ["DataType": "String", "StringValue": .string(id)],
                "reason": ["DataType": "String", "StringValue": .string(reason)],
            ],
        ])
        try await deleteMessage(handle, queue: configuration.queueURL)
    }
}

/// What an SQS lease receipt carries: enough to dead-letter the message without another read.
struct SQSReceipt {
    var jobID: String
    var receiveCount: Int
    var messageID: String
    var leaseExpiresAt: Date
    var handle: String

    init(jobID: String, receiveCount: Int, messageID: String, leaseExpiresAt: Date, handle: String) {
        self.jobID = jobID
        self.receiveCount = receiveCount
        self.messageID = messageID
        self.leaseExpiresAt = leaseExpiresAt
        self.handle = handle
    }

    /// `sqs1|job|count|message id|lease expiry (ms)|handle`.
    var encoded: String {
        "sqs1|\(jobID)|\(receiveCount)|\(messageID)|\(Int64(leaseExpiresAt.timeIntervalSince1970 * 1000))|\(handle)"
    }

    init?(_ text: String) {
        let parts = text.split(separator: "|", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "sqs1", let count = Int(parts[2]), let millis = Int64(parts[4]) else { return nil }
        jobID = String(parts[1])
        receiveCount = count
        messageID = String(parts[3])
        leaseExpiresAt = Date(timeIntervalSince1970: TimeInterval(millis) / 1000)
        handle = String(parts[5])
    }
}
