import ExportCore
import Synchronization

/// A `Notifier` that records what it sends instead of sending it: for tests and demos.
///
/// Idempotent by `ExportNotification.idempotencyKey`: a second send with a key already sent does
/// nothing and succeeds. Inspect ``sent`` (or ``deliveryCount(for:)``) to assert that the user got
/// exactly one message; make sends fail through ``faults`` (a failed send records nothing).
///
/// A class whose state sits behind one lock (not an actor), so a send never waits for an executor.
public final class InMemoryNotifier: Notifier, Sendable {
    private struct State {
        var delivered: [ExportNotification] = []
        /// Per idempotency key: the calls of `send`, and whether one was delivered (one hash per send).
        var keys: [String: Key] = [:]
    }

    private struct Key {
        var attempts = 0
        var delivered = false

        /// Counts a call that got through; `true` when it is the key's first delivery.
        mutating func record() -> Bool {
            attempts += 1
            defer { delivered = true }
            return !delivered
        }
    }

    private let state = Mutex(State())

    /// Makes chosen operations fail; see ``FaultInjector``.
    public let faults: FaultInjector

    /// Creates a notifier that has sent nothing.
    ///
    /// - Parameters:
    ///   - faults: The fault injector to consult; a fresh one by default.
    public init(faults: FaultInjector = FaultInjector()) {
        self.faults = faults
    }

    /// Records the notification unless its key was already sent.
    ///
    /// - Parameters:
    ///   - notification: What to send.
    /// - Throws: An injected `ExportError`; nothing is recorded then.
    public func send(_ notification: ExportNotification) async throws {
        let key = notification.idempotencyKey
        do {
            try faults.check(.send)
        } catch {
            state.withLock { $0.keys[key, default: Key()].attempts += 1 }
            throw error
        }
        // The call and the delivery under one lock.
        state.withLock { state in
            let first = state.keys[key, default: Key()].record()
            if first { state.delivered.append(notification) }
        }
    }

    // MARK: Inspection
    //
    // Asynchronous, as they were when the notifier was an actor, so callers' `await`s stay as they are.

    /// Every notification delivered, in order; duplicates by key are not repeated.
    public var sent: [ExportNotification] {
        get async { state.withLock { $0.delivered } }
    }

    /// How many messages were delivered with this key: 0 or 1 for a correct pipeline and notifier.
    ///
    /// - Parameters:
    ///   - idempotencyKey: The key.
    /// - Returns: The number of deliveries.
    public func deliveryCount(for idempotencyKey: String) async -> Int {
        state.withLock { $0.delivered.count(where: { $0.idempotencyKey == idempotencyKey }) }
    }

    /// How many times ``send(_:)`` was called with this key, failed and duplicate calls included.
    ///
    /// - Parameters:
    ///   - idempotencyKey: The key.
    /// - Returns: The number of calls.
    public func sendAttempts(for idempotencyKey: String) async -> Int { state.withLock { $0.keys[idempotencyKey]?.attempts ?? 0 } }

    /// Forgets everything sent (the fault injector is left alone).
    public func removeAll() async {
        state.withLock { $0 = State() }
    }
}
