import ExportCore
import Synchronization

/// Wakes ``PostgresQueue`` receivers when a message is queued, by PostgreSQL's `LISTEN`/`NOTIFY`, so a
/// waiting receive answers within a round trip of the enqueue instead of at its next poll.
///
/// A queue given wake-ups sends `NOTIFY` on ``channel`` (with the queue's name as payload) in the same
/// statement that makes a message visible at once: an enqueue without delay, a release without delay,
/// a redrive. Inside a host transaction (`ExportService/request(_:in:)`) PostgreSQL delivers the
/// notification when the transaction commits, and not at all when it rolls back.
///
/// ``run(retryAfter:onFailure:)`` listens through the host's ``ExportSQLListener`` until cancelled; run it beside
/// the worker (a `Service` in the host's service group, or a task). While it is listening, an empty
/// receive waits for a notification or ``fallbackPollInterval``, whichever comes first; while it is not
/// (never started, or reconnecting), receives poll every ``PostgresQueue/pollInterval`` as without
/// wake-ups. Messages that become visible without a notification (a delay or a lease that ran out) are
/// found by that fallback poll. A process that only enqueues (an API server without a worker) creates
/// wake-ups to send notifications and need not run them.
public final class PostgresWakeUps: Sendable {
    /// The notification channel: the schema's prefix followed by `queue`.
    public let channel: String
    /// How long an empty receive waits for a notification before it looks again anyway (1 second by default).
    public let fallbackPollInterval: Duration
    let listener: (any ExportSQLListener)?
    private let state = Mutex(State())

    private struct State {
        var generation: UInt64 = 0
        var listening = false
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    /// Creates wake-ups for the queues of `schema`.
    ///
    /// - Parameters:
    ///   - schema: The tables; the channel is named after their prefix.
    ///   - listener: The host's `LISTEN`, or `nil` in a process that only sends notifications.
    ///   - fallbackPollInterval: How long an empty receive waits for a notification before looking again.
    public init(schema: PostgresSchema, listener: (any ExportSQLListener)?, fallbackPollInterval: Duration = .seconds(1)) {
        channel = schema.prefix + "queue"
        self.listener = listener
        self.fallbackPollInterval = max(.milliseconds(1), fallbackPollInterval)
    }

    /// Whether a listener is connected now.
    public var isListening: Bool { state.withLock { $0.listening } }

    /// Listens until the task is cancelled, listening again `retryAfter` after each failure.
    ///
    /// Each (re)connection wakes every waiting receive once, since notifications sent while not listening
    /// are lost. Returns at once when there is no listener.
    ///
    /// - Parameters:
    ///   - retryAfter: The pause after a failed or ended listen (1 second by default).
    ///   - onFailure: Called with each listener error before the pause (log it); nothing by default.
    public func run(retryAfter: Duration = .seconds(1), onFailure: @Sendable (any Error) -> Void = { _ in }) async {
        guard let listener else { return }
        let pause = max(.milliseconds(10), retryAfter)
        while !Task.isCancelled {
            do {
                try await listener.listen(
                    on: channel,
                    onListening: {
                        // Whatever was queued while not listening has no notification coming: look now.
                        self.setListening(true)
                        self.signal()
                    },
                    onNotification: { _ in self.signal() })
            } catch {
                if !Task.isCancelled { onFailure(error) }
            }
            setListening(false)
            signal()  // waiters fall back to polling at once
            guard !Task.isCancelled else { return }
            try? await Task.sleep(for: pause)
        }
    }

    private func setListening(_ value: Bool) { state.withLock { $0.listening = value } }

    /// Wakes every waiting receive.
    func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The count of signals so far; read it before looking for messages and pass it to ``wait(after:timeout:clock:)``.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Waits until a signal after `generation` (at once when one came already) or `timeout` on `clock`.
    ///
    /// - Throws: `CancellationError` when the task is cancelled.
    func wait(after generation: UInt64, timeout: Duration, clock: any ExportClock) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await clock.sleep(for: timeout) }
            group.addTask { await self.signalled(after: generation) }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    private func signalled(after generation: UInt64) async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    guard state.generation == generation, !Task.isCancelled else { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
