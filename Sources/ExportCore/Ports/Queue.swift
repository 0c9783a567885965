import Foundation

/// An at-least-once work queue with leases: the common ground of SQS, BullMQ/Redis and a spool directory.
///
/// ## Implementation requirements
/// - **At-least-once.** An enqueued message is delivered until it is acknowledged or dead-lettered.
///   It may be delivered more than once (a consumer died, a lease ran out, a network retry): the
///   pipeline tolerates duplicates, so adapters need not prevent them.
/// - **Leases.** ``receive(max:visibilityTimeout:waitTime:)`` hides each returned message from other
///   receivers until its lease expires. A message whose lease expires without being acknowledged,
///   released or dead-lettered becomes visible again, and its ``Delivery/receiveCount`` grows by one on
///   each receive. Receive counts survive restarts of durable adapters.
/// - **Receipts.** Every delivery carries a ``LeaseReceipt``. Operations with the receipt of a lease that
///   has expired (and been received by someone else) throw ``ExportError/Code/leaseLost`` or do
///   nothing; they must never remove or hide the message from its new holder.
/// - **Delays.** A message enqueued or released with a delay is not delivered before the delay passes.
/// - **Dead letters** leave the queue for good (until redriven) and keep their reason and receive count.
///   ``redrive(_:)`` puts them back as fresh messages (receive count 0).
/// - **Liveness.** ``jobsWithLiveMessages(among:)`` answers exactly (a job with a waiting, delayed or
///   leased message is listed; one whose messages were all acknowledged or dead-lettered is not), or
///   `nil` for a queue that cannot look messages up by job.
/// - Time is the adapter's clock (the injected clock for in-memory and file adapters).
public protocol Queue: Sendable {
    /// Adds a message.
    ///
    /// - Parameters:
    ///   - message: The message.
    ///   - delay: How long before it may be delivered; zero for now.
    /// - Returns: The message's id.
    /// - Throws: ``ExportError`` when the queue is unreachable.
    @discardableResult
    func enqueue(_ message: QueueMessage, delay: Duration) async throws -> MessageID

    /// Leases up to `max` visible messages.
    ///
    /// - Parameters:
    ///   - max: The most messages to return (1 to 10).
    ///   - visibilityTimeout: How long the lease lasts.
    ///   - waitTime: How long to wait for a message when none is visible (long polling); adapters may
    ///     return sooner, and return an empty array when none arrives.
    /// - Returns: The leased deliveries.
    /// - Throws: ``ExportError`` when the queue is unreachable.
    func receive(max: Int, visibilityTimeout: Duration, waitTime: Duration) async throws -> [Delivery]

    /// Deletes a delivered message: its work is done.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    /// - Throws: ``ExportError/Code/leaseLost`` when the lease is no longer held.
    func acknowledge(_ receipt: LeaseReceipt) async throws

    /// Gives a delivered message back, to be delivered again after `delay`.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - delay: How long it stays invisible; zero for now.
    /// - Throws: ``ExportError/Code/leaseLost`` when the lease is no longer held.
    func release(_ receipt: LeaseReceipt, delay: Duration) async throws

    /// Extends a lease (a heartbeat while a long export runs).
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - visibilityTimeout: The new lease length, counted from now.
    /// - Returns: When the extended lease expires.
    /// - Throws: ``ExportError/Code/leaseLost`` when the lease is no longer held.
    @discardableResult
    func extendLease(_ receipt: LeaseReceipt, by visibilityTimeout: Duration) async throws -> Date

    /// Moves a delivered message to the dead-letter queue.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - reason: Why, for the person who looks at dead letters.
    /// - Throws: ``ExportError/Code/leaseLost`` when the lease is no longer held.
    func deadLetter(_ receipt: LeaseReceipt, reason: String) async throws

    /// Lists dead letters, oldest first.
    ///
    /// - Parameters:
    ///   - limit: The most to return.
    /// - Returns: The dead letters.
    /// - Throws: ``ExportError`` when the queue is unreachable.
    func deadLetters(limit: Int) async throws -> [DeadLetter]

    /// Moves dead letters back into the queue as fresh messages.
    ///
    /// - Parameters:
    ///   - ids: The dead letters to move; `nil` for all of them.
    /// - Returns: How many were moved.
    /// - Throws: ``ExportError`` when the queue is unreachable.
    @discardableResult
    func redrive(_ ids: [MessageID]?) async throws -> Int

    /// Which of `jobs` have a live message in this queue: waiting, delayed or leased (an expired lease
    /// included: it comes back by itself). The ``Reconciler`` queues a job again only when it has none,
    /// so a backlog never multiplies messages.
    ///
    /// - Parameters:
    ///   - jobs: The jobs to look for.
    /// - Returns: The jobs among `jobs` with a live message, or `nil` when this queue cannot tell (SQS
    ///   has no lookup by content); the reconciler then relies on time alone.
    /// - Throws: ``ExportError`` when the queue cannot be read.
    func jobsWithLiveMessages(among jobs: Set<JobID>) async throws -> Set<JobID>?
}

extension Queue {
    /// Adds a message for immediate delivery.
    ///
    /// - Parameters:
    ///   - message: The message.
    /// - Returns: The message's id.
    /// - Throws: ``ExportError`` when the queue is unreachable.
    @discardableResult
    public func enqueue(_ message: QueueMessage) async throws -> MessageID {
        try await enqueue(message, delay: .zero)
    }
}

/// What the queue carries: the id of a job to work on. The job record holds everything else.
public struct QueueMessage: Hashable, Sendable, Codable {
    /// The job to work on.
    public var jobID: JobID

    /// Creates a message.
    ///
    /// - Parameters:
    ///   - jobID: The job to work on.
    public init(jobID: JobID) { self.jobID = jobID }
}

/// The identity of a queued message, stable across deliveries.
public struct MessageID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The adapter-defined id.
    public let rawValue: String

    /// Wraps an adapter-defined id.
    ///
    /// - Parameters:
    ///   - rawValue: The id.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// The id.
    public var description: String { rawValue }
}

/// Proof of one lease on one delivery; changes on every delivery of the same message.
public struct LeaseReceipt: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The adapter-defined receipt (an SQS receipt handle, a lease file name…).
    public let rawValue: String

    /// Wraps an adapter-defined receipt.
    ///
    /// - Parameters:
    ///   - rawValue: The receipt.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// The receipt.
    public var description: String { rawValue }
}

/// A leased message.
public struct Delivery: Hashable, Sendable {
    /// The message's id.
    public var id: MessageID
    /// The message.
    public var message: QueueMessage
    /// The receipt for acknowledging, releasing, extending or dead-lettering this delivery.
    public var receipt: LeaseReceipt
    /// How many times the message has been received, this time included.
    public var receiveCount: Int
    /// When this lease runs out unless extended.
    public var leaseExpiresAt: Date
    /// The message's job as the queue read it with the lease, for a queue that keeps its messages beside
    /// the jobs and can read both in one round trip (`PostgresQueue` on `PostgresBackend`); `nil` when
    /// the queue did not read it.
    ///
    /// The worker takes it as its first read of the job instead of asking the job store, which saves a
    /// round trip per job. It is a snapshot like any read: every write that follows is still a
    /// compare-and-swap on the job's version, so a snapshot that is stale by then fails that write as a
    /// stale `get` would. The worker ignores a snapshot of another job than ``message``'s.
    public var job: ExportJob?

    /// Creates a delivery.
    ///
    /// - Parameters:
    ///   - id: The message's id.
    ///   - message: The message.
    ///   - receipt: The lease receipt.
    ///   - receiveCount: How many times it has been received.
    ///   - leaseExpiresAt: When the lease runs out.
    ///   - job: The message's job as read with the lease, if the queue read it.
    public init(id: MessageID, message: QueueMessage, receipt: LeaseReceipt, receiveCount: Int, leaseExpiresAt: Date, job: ExportJob? = nil) {
        self.id = id
        self.message = message
        self.receipt = receipt
        self.receiveCount = receiveCount
        self.leaseExpiresAt = leaseExpiresAt
        self.job = job
    }
}

/// A message moved out of the queue for a person to look at.
public struct DeadLetter: Hashable, Sendable, Codable {
    /// The message's id, for ``Queue/redrive(_:)``.
    public var id: MessageID
    /// The message.
    public var message: QueueMessage
    /// Why it was dead-lettered.
    public var reason: String
    /// How many times it had been received.
    public var receiveCount: Int
    /// When it was dead-lettered.
    public var deadLetteredAt: Date

    /// Creates a dead letter.
    ///
    /// - Parameters:
    ///   - id: The message's id.
    ///   - message: The message.
    ///   - reason: Why it was dead-lettered.
    ///   - receiveCount: How many times it had been received.
    ///   - deadLetteredAt: When.
    public init(id: MessageID, message: QueueMessage, reason: String, receiveCount: Int, deadLetteredAt: Date) {
        self.id = id
        self.message = message
        self.reason = reason
        self.receiveCount = receiveCount
        self.deadLetteredAt = deadLetteredAt
    }
}
