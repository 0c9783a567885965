import ExportCore

/// A `Notifier` that records what it sends instead of sending it: for tests and demos.
///
/// Idempotent by `ExportNotification.idempotencyKey`: a second send with a key already sent does
/// nothing and succeeds. Inspect ``sent`` (or ``deliveryCount(for:)``) to assert that the user got
/// exactly one message; make sends fail through ``faults`` (a failed send records nothing).
public actor InMemoryNotifier: Notifier {
    private var delivered: [ExportNotification] = []
    private var deliveredKeys: Set<String> = []
    private var attempts: [String: Int] = [:]

    /// Makes chosen operations fail; see ``FaultInjector``.
    public nonisolated let faults: FaultInjector

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
        attempts[notification.idempotencyKey, default: 0] += 1
        try faults.check(.send)
        guard deliveredKeys.insert(notification.idempotencyKey).inserted else { return }
        delivered.append(notification)
    }

    // MARK: Inspection

    /// Every notification delivered, in order; duplicates by key are not repeated.
    public var sent: [ExportNotification] { delivered }

    /// How many messages were delivered with this key: 0 or 1 for a correct pipeline and notifier.
    ///
    /// - Parameters:
    ///   - idempotencyKey: The key.
    /// - Returns: The number of deliveries.
    public func deliveryCount(for idempotencyKey: String) -> Int {
        delivered.count(where: { $0.idempotencyKey == idempotencyKey })
    }

    /// How many times ``send(_:)`` was called with this key, failed and duplicate calls included.
    ///
    /// - Parameters:
    ///   - idempotencyKey: The key.
    /// - Returns: The number of calls.
    public func sendAttempts(for idempotencyKey: String) -> Int { attempts[idempotencyKey, default: 0] }

    /// Forgets everything sent (the fault injector is left alone).
    public func removeAll() {
        delivered = []
        deliveredKeys = []
        attempts = [:]
    }
}
