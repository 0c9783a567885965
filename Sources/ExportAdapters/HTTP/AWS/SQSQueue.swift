import ExportCore
import Foundation
import Synchronization

/// A `Queue` on Amazon SQS (JSON protocol), with a dead-letter queue.
///
/// - Messages carry the job id as JSON and a stable message id in the `exportMessageID` attribute, so
///   a message keeps its id through dead-lettering and redrive.
/// - Delays longer than SQS's 15 minutes are honoured with a `notBefore` attribute: a message received
///   early is hidden again for the rest of its delay and not returned.
/// - **Leases.** SQS accepts any receipt handle a message ever had, so a stale receipt could delete or
///   hide a message leased by someone else. The adapter therefore tracks each lease's expiry (in the
///   receipt and, when extended, in memory) and refuses, with `ExportError.Code.leaseLost`, operations
///   on a lease that has run out, without calling SQS.
/// - **Dead letters** are sent to the dead-letter queue with the reason, receive count and time as
///   message attributes, then deleted from the work queue. The work queue's redrive policy (set by
///   ``createQueues(named:maxReceiveCount:aws:transport:)``) is the safety net for messages a consumer
///   never dead-letters; those show up with the reason "exceeded the redrive policy's receive count".
/// - Listing dead letters receives from the dead-letter queue and makes the messages visible again at
///   once (`ChangeMessageVisibilityBatch`), so listing does not consume them.
public final class SQSQueue: Queue {
    /// The queue URLs.
    public let configuration: Configuration
    let client: AWSServiceClient
    /// Receipt handle → when its lease runs out and whether it was ended (acknowledged, released,
    /// dead-lettered). Entries are pruned once past their expiry, when the receipt alone is refused.
    let leases: Mutex<[String: (expires: Date, ended: Bool)]>

    /// Creates the adapter.
    ///
    /// - Parameters:
    ///   - configuration: The queue URLs.
    ///   - aws: Credentials, region and endpoint.
    ///   - transport: The HTTP transport; an ``HTTP1Transport`` by default (`https://` through URLSession).
    ///   - clock: The clock for signing and lease bookkeeping.
    public init(
        configuration: Configuration,
        aws: AWSConfiguration,
        transport: any HTTPTransport = HTTP1Transport(),
        clock: any ExportClock = SystemClock()
    ) {
        self.configuration = configuration
        self.client = AWSServiceClient(configuration: aws, service: "sqs", hostPrefix: "sqs", transport: transport, clock: clock)
        self.leases = Mutex([:])
    }

    /// Creates a work queue and its dead-letter queue, with a redrive policy between them (for tests,
    /// development and first deployments); existing queues with the same attributes are reused.
    ///
    /// - Parameters:
    ///   - name: The work queue's name; the dead-letter queue is `<name>-dlq`.
    ///   - maxReceiveCount: Receives after which SQS itself moves a message to the dead-letter queue; 100
    ///     by default. It must stay above what the pipeline allows on its own (the worker's
    ///     `maxDeliveries`, and `RetryPolicy.maxInterruptions` takeovers, each a receive, plus the
    ///     receives of a message that waits for a retry or another worker's lease), or SQS dead-letters
    ///     messages of jobs the pipeline would still finish.
    ///   - aws: Credentials, region and endpoint.
    ///   - transport: The HTTP transport.
    /// - Returns: The configuration naming both queues.
    /// - Throws: `ExportError` when SQS refuses.
    public static func createQueues(
        named name: String,
        maxReceiveCount: Int = 100,
        aws: AWSConfiguration,
        transport: any HTTPTransport = HTTP1Transport()
    ) async throws -> Configuration {
        let client = AWSServiceClient(configuration: aws, service: "sqs", hostPrefix: "sqs", transport: transport, clock: SystemClock())
        let dlq = try await client.json(target: "AmazonSQS.CreateQueue", [
            "QueueName": .string("\(name)-dlq"), "Attributes": ["MessageRetentionPeriod": "1209600"],
        ])
        guard let dlqURL = dlq["QueueUrl"]?.stringValue else {
            throw ExportError(.corruptData, "CreateQueue returned no QueueUrl")
        }
        let attributes = try await client.json(target: "AmazonSQS.GetQueueAttributes", [
            "QueueUrl": .string(dlqURL), "AttributeNames": ["QueueArn"],
        ])
        guard let arn = attributes["Attributes"]?["QueueArn"]?.stringValue else {
            throw ExportError(.corruptData, "GetQueueAttributes returned no QueueArn")
        }
        let policy = "{\"deadLetterTargetArn\":\"\(arn)\",\"maxReceiveCount\":\"\(maxReceiveCount)\"}"
        let queue = try await client.json(target: "AmazonSQS.CreateQueue", [
            "QueueName": .string(name), "Attributes": ["RedrivePolicy": .string(policy)],
        ])
        guard let queueURL = queue["QueueUrl"]?.stringValue else {
            throw ExportError(.corruptData, "CreateQueue returned no QueueUrl")
        }
        return Configuration(queueURL: queueURL, deadLetterQueueURL: dlqURL)
    }

    /// Sends a message, delayed by up to 15 minutes in SQS and beyond that by its `notBefore` attribute.
    ///
    /// - Parameters:
    ///   - message: The message.
    ///   - delay: How long before it may be delivered.
    /// - Returns: The message's stable id.
    /// - Throws: `ExportError` when SQS fails.
    @discardableResult
    public func enqueue(_ message: QueueMessage, delay: Duration) async throws -> MessageID {
        let id = MessageID(UUID().uuidString.lowercased())
        try await send(message, id: id, to: configuration.queueURL, delay: delay, extra: [:])
        return id
    }

    /// Receives up to `max` messages with a long poll and leases them.
    ///
    /// - Parameters:
    ///   - max: 1 to 10.
    ///   - visibilityTimeout: The lease (whole seconds, up to 12 hours).
    ///   - waitTime: The long poll (up to ``Configuration/maximumWaitTime``).
    /// - Returns: The deliveries.
    /// - Throws: `ExportError` when SQS fails.
    public func receive(max: Int, visibilityTimeout: Duration, waitTime: Duration) async throws -> [Delivery] {
        let lease = Self.wholeSeconds(visibilityTimeout, range: 0...43_200)
        let wait = Self.wholeSeconds(min(waitTime, configuration.maximumWaitTime), range: 0...20)
        // SQS may start the visibility timeout as soon as the request arrives, so the lease is counted
        // from before the call: the local expiry errs early, never late, however long the call took.
        let sent = client.clock.now()
        let messages = try await receiveRaw(
            from: configuration.queueURL, max: Swift.max(1, Swift.min(10, max)), visibility: lease, wait: wait
        )
        let now = client.clock.now()
        let expires = sent.addingTimeInterval(TimeInterval(lease))
        var deliveries: [Delivery] = []
        for message in messages {
            guard let handle = message["ReceiptHandle"]?.stringValue else { continue }
            if let notBefore = Self.attribute(message, "notBefore").flatMap(Double.init),
               notBefore > now.timeIntervalSince1970 {
                let remaining = Int((notBefore - now.timeIntervalSince1970).rounded(.up))
                _ = try? await changeVisibility(handle, seconds: Swift.min(remaining, 43_200), queue: configuration.queueURL)
                continue
            }
            guard let body = message["Body"]?.stringValue,
                  let decoded = try? JSONDecoder().decode(QueueMessage.self, from: Data(body.utf8))
            else {
                // A body we cannot read can never succeed: park it with the dead letters.
                try await moveToDeadLetters(message, reason: "unreadable message body", handle: handle)
                continue
            }
            let id = MessageID(Self.attribute(message, "exportMessageID") ?? message["MessageId"]?.stringValue ?? "")
            let count = message["Attributes"]?["ApproximateReceiveCount"]?.stringValue.flatMap(Int.init) ?? 1
            let receipt = SQSReceipt(jobID: decoded.jobID.rawValue, receiveCount: count, messageID: id.rawValue,
                                     leaseExpiresAt: expires, handle: handle)
            leases.withLock { leases in
                if leases.count > 10_000 { leases = leases.filter { $0.value.expires > now } }
                leases[handle] = (expires, false)
            }
            deliveries.append(Delivery(
                id: id, message: decoded, receipt: LeaseReceipt(receipt.encoded), receiveCount: count, leaseExpiresAt: expires
            ))
        }
        return deliveries
    }

    /// Deletes the message.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    /// - Throws: `ExportError.Code.leaseLost` when the lease has run out.
    public func acknowledge(_ receipt: LeaseReceipt) async throws {
        let parsed = try heldLease(receipt)
        try await deleteMessage(parsed.handle, queue: configuration.queueURL)
        endLease(parsed.handle)
    }

    /// Makes the message visible again after `delay` (`ChangeMessageVisibility`).
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - delay: How long it stays invisible.
    /// - Throws: `ExportError.Code.leaseLost` when the lease has run out.
    public func release(_ receipt: LeaseReceipt, delay: Duration) async throws {
        let parsed = try heldLease(receipt)
        try await changeVisibility(parsed.handle, seconds: Self.wholeSeconds(delay, range: 0...43_200), queue: configuration.queueURL)
        endLease(parsed.handle)
    }

    /// Extends the lease (`ChangeMessageVisibility`).
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - visibilityTimeout: The new lease, from now.
    /// - Returns: When it expires.
    /// - Throws: `ExportError.Code.leaseLost` when the lease has run out.
    @discardableResult
    public func extendLease(_ receipt: LeaseReceipt, by visibilityTimeout: Duration) async throws -> Date {
        let parsed = try heldLease(receipt)
        let seconds = Self.wholeSeconds(visibilityTimeout, range: 0...43_200)
        let sent = client.clock.now()  // the new lease may start when SQS gets the call: count from before it
        try await changeVisibility(parsed.handle, seconds: seconds, queue: configuration.queueURL)
        let expires = sent.addingTimeInterval(TimeInterval(seconds))
        leases.withLock { $0[parsed.handle] = (expires, false) }
        return expires
    }

    /// Sends the message to the dead-letter queue with its reason, then deletes it from the queue.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - reason: Why.
    /// - Throws: `ExportError.Code.leaseLost` when the lease has run out.
    public func deadLetter(_ receipt: LeaseReceipt, reason: String) async throws {
        let parsed = try heldLease(receipt)
        guard let jobID = JobID(parsed.jobID) else {
            throw ExportError(.invalidRequest, "The receipt names no valid job")
        }
        try await send(
            QueueMessage(jobID: jobID), id: MessageID(parsed.messageID), to: configuration.deadLetterQueueURL, delay: .zero,
            extra: ["reason": String(reason.prefix(1000)), "receiveCount": String(parsed.receiveCount),
                    "deadLetteredAt": String(client.clock.now().timeIntervalSince1970)]
        )
        try await deleteMessage(parsed.handle, queue: configuration.queueURL)
        endLease(parsed.handle)
    }

    /// Marks a lease as ended, so its receipt is refused from now on.
    func endLease(_ handle: String) {
        leases.withLock { leases in
            leases[handle] = (leases[handle]?.expires ?? .distantFuture, true)
        }
    }

    /// The lease of a receipt, if it is still held.
    func heldLease(_ receipt: LeaseReceipt) throws(ExportError) -> SQSReceipt {
        guard let parsed = SQSReceipt(receipt.rawValue) else {
            throw ExportError(.leaseLost, "The receipt is not one of this queue's receipts")
        }
        let lease: (expires: Date, ended: Bool) = leases.withLock { $0[parsed.handle] } ?? (parsed.leaseExpiresAt, false)
        guard !lease.ended else {
            throw ExportError(.leaseLost, "The lease on message \(parsed.messageID) was already given up")
        }
        guard client.clock.now() < lease.expires else {
            throw ExportError(.leaseLost, "The lease on message \(parsed.messageID) ran out; another consumer may hold it")
        }
        return parsed
    }

    static func wholeSeconds(_ duration: Duration, range: ClosedRange<Int>) -> Int {
        let seconds = Int(DurationSeconds.of(duration).rounded(.up))
        return Swift.min(range.upperBound, Swift.max(range.lowerBound, seconds))
    }

    static func attribute(_ message: JSONValue, _ name: String) -> String? {
        message["MessageAttributes"]?[name]?["StringValue"]?.stringValue
    }
}
