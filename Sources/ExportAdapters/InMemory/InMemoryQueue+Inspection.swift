import ExportCore
import Foundation

// Asynchronous, as they were when the queue was an actor, so callers' `await`s stay as they are.
extension InMemoryQueue {
    /// The number of messages a `receive` would return now (ignoring its `max`).
    public var visibleCount: Int {
        get async {
            let now = clock.now()
            return state.withLock { $0.entries.values.count(where: { Self.isDue($0.visibleAt, now) }) }
        }
    }

    /// The number of messages under a lease that has not run out.
    public var inFlightCount: Int {
        get async {
            let now = clock.now()
            return state.withLock { $0.entries.values.count(where: { $0.receipt != nil && !Self.isDue($0.visibleAt, now) }) }
        }
    }

    /// The number of messages waiting for a delay (enqueued or released with one) to pass.
    public var delayedCount: Int {
        get async {
            let now = clock.now()
            return state.withLock { $0.entries.values.count(where: { $0.receipt == nil && !Self.isDue($0.visibleAt, now) }) }
        }
    }

    /// Every message still in the queue (visible, delayed or leased), oldest first.
    public var pendingMessages: [QueueMessage] {
        get async { state.withLock { $0.entries.values.sorted { $0.sequence < $1.sequence }.map(\.message) } }
    }

    /// Every dead letter, oldest first, without consulting ``faults``.
    public var allDeadLetters: [DeadLetter] {
        get async { state.withLock { $0.dead } }
    }

    /// How many times a message still in the queue has been received.
    ///
    /// - Parameters:
    ///   - id: The message's id.
    /// - Returns: Its receive count, or `nil` when it is not in the queue (acknowledged or dead-lettered).
    public func receiveCount(of id: MessageID) async -> Int? { state.withLock { $0.entries[id]?.receiveCount } }

    /// When a message still in the queue becomes visible: the end of its lease or delay.
    ///
    /// - Parameters:
    ///   - id: The message's id.
    /// - Returns: The moment, or `nil` when it is not in the queue.
    public func visibleAt(_ id: MessageID) async -> Date? { state.withLock { $0.entries[id]?.visibleAt } }
}
