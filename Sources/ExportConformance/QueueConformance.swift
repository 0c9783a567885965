import ExportCore
import Foundation

/// Checks that a `Queue` keeps every promise of the port's "Implementation requirements".
///
/// The suite needs to let time pass on the queue's clock: `advance` moves a `ManualClock`-like clock
/// forward for adapters with an injected clock, or sleeps for real services. Each case gets a fresh,
/// **empty** queue from `makeQueue` (messages left by another user of the queue break the cases).
///
/// ```swift
/// let clock = ManualClock()
/// try await QueueConformance(
///     makeQueue: { InMemoryQueue(clock: clock) },
///     advance: { clock.advance(by: $0) },
///     now: { clock.now() }
/// ).run()
/// ```
public struct QueueConformance: Sendable {
    /// Lease lengths and patience, chosen by the caller to suit the adapter.
    public struct Configuration: Sendable {
        /// The lease length the suite asks for.
        public var visibilityTimeout: Duration
        /// How far past a deadline the suite advances before expecting its effect (clock skew, rounding).
        public var margin: Duration
        /// The `waitTime` of a receive that expects a message.
        public var receiveWaitTime: Duration
        /// How many receives the suite tries before deciding an expected message is missing.
        public var receiveAttempts: Int

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - visibilityTimeout: The lease length; 30 seconds by default (use a few seconds for a real
        ///     service, where `advance` sleeps).
        ///   - margin: Extra time past each deadline; 1 second by default.
        ///   - receiveWaitTime: The long-poll time when a message is expected; zero by default.
        ///   - receiveAttempts: Receives tried for an expected message; 1 by default (more for services
        ///     that may return nothing although a message is visible, as SQS short polling).
        public init(
            visibilityTimeout: Duration = .seconds(30),
            margin: Duration = .seconds(1),
            receiveWaitTime: Duration = .zero,
            receiveAttempts: Int = 1
        ) {
            self.visibilityTimeout = visibilityTimeout
            self.margin = margin
            self.receiveWaitTime = receiveWaitTime
            self.receiveAttempts = max(1, receiveAttempts)
        }
    }

    let configuration: Configuration
    let makeQueue: @Sendable () async throws -> any Queue
    let advance: @Sendable (Duration) async throws -> Void
    let now: @Sendable () -> Date

    /// Creates the suite.
    ///
    /// - Parameters:
    ///   - configuration: Lease lengths and patience.
    ///   - makeQueue: Makes an empty queue; called once per case.
    ///   - advance: Lets the given time pass on the queue's clock (advance a manual clock, or sleep).
    ///   - now: The queue's current time, to check lease expiries (within ``Configuration/margin``);
    ///     the clock's `now` for an injected clock, `Date()` (the default) for a real service.
    public init(
        configuration: Configuration = Configuration(),
        makeQueue: @escaping @Sendable () async throws -> any Queue,
        advance: @escaping @Sendable (Duration) async throws -> Void,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.makeQueue = makeQueue
        self.advance = advance
        self.now = now
    }

    /// Runs every case.
    ///
    /// - Throws: ``ConformanceFailure`` at the first broken requirement, or the queue's own error when
    ///   it fails where it should not.
    public func run() async throws {
        try await runCase("Queue", "delivery, lease and acknowledgement", deliveryAndAcknowledgement)
        try await runCase("Queue", "an expired lease redelivers", leaseExpiry)
        try await runCase("Queue", "a stale receipt cannot touch the new holder's message", staleReceipt)
        try await runCase("Queue", "enqueue with a delay", delayedEnqueue)
        try await runCase("Queue", "release with a delay", releaseWithDelay)
        try await runCase("Queue", "extending a lease keeps the message hidden", extendLease)
        try await runCase("Queue", "dead letters and redrive", deadLetters)
        try await runCase("Queue", "live messages are known by job", liveness)
        try await runCase("Queue", "batches deliver each message once", batches)
        try await runCase("Queue", "concurrent receivers never share a lease", concurrentReceivers)
    }

    // MARK: Helpers

    var timeout: Duration { configuration.visibilityTimeout }

    func message() throws -> QueueMessage {
        QueueMessage(jobID: try require(JobID("conformance-\(runToken())"), "could not make a job id"))
    }

    func receiveOne(_ queue: any Queue, _ what: String) async throws -> Delivery {
        for _ in 0..<configuration.receiveAttempts {
            let deliveries = try await queue.receive(
                max: 1, visibilityTimeout: timeout, waitTime: configuration.receiveWaitTime
            )
            try check(deliveries.count <= 1, "receive(max: 1) returned \(deliveries.count) messages")
            if let delivery = deliveries.first { return delivery }
        }
        throw ConformanceFailure("\(what): no message was delivered", location: "receive")
    }

    func expectNothing(_ queue: any Queue, _ why: String) async throws {
        let deliveries = try await queue.receive(max: 10, visibilityTimeout: timeout, waitTime: .zero)
        try check(deliveries.isEmpty, "\(why), but receive returned \(deliveries.map(\.message.jobID))")
    }

    /// Checks that `expiry` is `lease` after some moment between `before` and `after`, give or take the margin.
    func checkExpiry(_ expiry: Date, lease: Duration, before: Date, after: Date, _ what: String) throws {
        let length = Self.seconds(lease)
        let margin = Self.seconds(configuration.margin)
        try check(
            expiry >= before.addingTimeInterval(length - margin) && expiry <= after.addingTimeInterval(length + margin),
            "\(what) expires at \(expiry), expected \(lease) after \(before)"
        )
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// Calls an operation with a receipt whose lease is gone: it may throw `leaseLost` or do nothing.
    func staleCall(_ what: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ExportError {
            try check(error.code == .leaseLost, "\(what) with a stale receipt threw \(error), expected leaseLost or nothing")
        }
    }

    // MARK: Cases

    private func deliveryAndAcknowledgement() async throws {
        let queue = try await makeQueue()
        try await expectNothing(queue, "a new queue must be empty")
        let sent = try message()
        let id = try await queue.enqueue(sent)
        let before = now()
        let delivery = try await receiveOne(queue, "an enqueued message")
        try checkExpiry(delivery.leaseExpiresAt, lease: timeout, before: before, after: now(), "a delivery's lease")
        try check(delivery.message == sent, "delivered \(delivery.message), enqueued \(sent)")
        try check(delivery.id == id, "the delivery's id \(delivery.id) is not the enqueued id \(id)")
        try check(delivery.receiveCount == 1, "a first delivery must have receive count 1, got \(delivery.receiveCount)")
        try await expectNothing(queue, "a leased message must be hidden from other receivers")
        try await queue.acknowledge(delivery.receipt)
        try await advance(timeout + configuration.margin)
        try await expectNothing(queue, "an acknowledged message must never come back")
    }

    private func leaseExpiry() async throws {
        let queue = try await makeQueue()
        let sent = try message()
        try await queue.enqueue(sent)
        let first = try await receiveOne(queue, "an enqueued message")
        try await advance(timeout + configuration.margin)
        let second = try await receiveOne(queue, "a message whose lease expired")
        try check(second.id == first.id && second.message == sent, "a different message was redelivered")
        try check(second.receiveCount == 2, "a redelivery must have receive count 2, got \(second.receiveCount)")
        try check(second.receipt != first.receipt, "a redelivery must carry a new receipt")
        try await queue.acknowledge(second.receipt)
        try await expectNothing(queue, "an acknowledged message must be gone")
    }

    private func staleReceipt() async throws {
        let queue = try await makeQueue()
        try await queue.enqueue(try message())
        let old = try await receiveOne(queue, "an enqueued message")
        try await advance(timeout + configuration.margin)
        let current = try await receiveOne(queue, "a message whose lease expired")

        try await staleCall("acknowledge") { try await queue.acknowledge(old.receipt) }
        try await expectNothing(queue, "the new holder's message must stay hidden after a stale acknowledge")
        try await staleCall("release") { try await queue.release(old.receipt, delay: .zero) }
        try await expectNothing(queue, "a stale release must not make the new holder's message visible")
        try await staleCall("extendLease") { try await queue.extendLease(old.receipt, by: timeout) }
        try await staleCall("deadLetter") { try await queue.deadLetter(old.receipt, reason: "stale") }
        let letters = try await queue.deadLetters(limit: 1000)
        try check(!letters.contains { $0.id == current.id }, "a stale receipt dead-lettered the new holder's message")

        // The new holder still owns the message: its acknowledge works and removes it.
        do {
            try await queue.acknowledge(current.receipt)
        } catch {
            throw ConformanceFailure(
                "after calls with a stale receipt, the new holder could not acknowledge its message: \(error)",
                location: "staleReceipt"
            )
        }
        try await advance(timeout + configuration.margin)
        try await expectNothing(queue, "the message acknowledged by its new holder came back")
        try await expectError([.leaseLost], "acknowledging an already acknowledged message") {
            try await queue.acknowledge(current.receipt)
        }
    }

    private func delayedEnqueue() async throws {
        let queue = try await makeQueue()
        let sent = try message()
        try await queue.enqueue(sent, delay: timeout)
        try await expectNothing(queue, "a message enqueued with a delay must not be delivered before it passes")
        try await advance(timeout + configuration.margin)
        let delivery = try await receiveOne(queue, "a delayed message after its delay")
        try check(delivery.message == sent && delivery.receiveCount == 1, "the delayed delivery is wrong: \(delivery)")
        try await queue.acknowledge(delivery.receipt)
    }

    private func releaseWithDelay() async throws {
        let queue = try await makeQueue()
        try await queue.enqueue(try message())
        let first = try await receiveOne(queue, "an enqueued message")
        try await queue.release(first.receipt, delay: timeout)
        try await expectNothing(queue, "a message released with a delay must stay hidden until it passes")
        try await advance(timeout + configuration.margin)
        let second = try await receiveOne(queue, "a released message after its delay")
        try check(second.id == first.id, "a different message came back after release")
        try check(second.receiveCount == 2, "the receive count after a release must be 2, got \(second.receiveCount)")
        try await queue.release(second.receipt, delay: .zero)
        let third = try await receiveOne(queue, "a message released without delay")
        try check(third.receiveCount == 3, "the receive count must be 3, got \(third.receiveCount)")
        try await expectError([.leaseLost], "releasing with a receipt already used to release") {
            try await queue.release(second.receipt, delay: .zero)
        }
        try await queue.acknowledge(third.receipt)
    }

    private func extendLease() async throws {
        let queue = try await makeQueue()
        try await queue.enqueue(try message())
        let delivery = try await receiveOne(queue, "an enqueued message")
        try await advance(timeout / 2)
        let before = now()
        let extended = try await queue.extendLease(delivery.receipt, by: timeout)
        try checkExpiry(extended, lease: timeout, before: before, after: now(), "an extended lease")
        try await advance(timeout / 2 + configuration.margin)
        try await expectNothing(queue, "a message whose lease was extended must stay hidden past the original lease")
        try await advance(timeout)
        let again = try await receiveOne(queue, "a message after its extended lease ran out")
        try check(again.receiveCount == 2, "the receive count after the extended lease must be 2, got \(again.receiveCount)")
        try await expectError([.leaseLost], "extending a lease that ran out and was taken") {
            try await queue.extendLease(delivery.receipt, by: timeout)
        }
        try await queue.acknowledge(again.receipt)
    }
}
