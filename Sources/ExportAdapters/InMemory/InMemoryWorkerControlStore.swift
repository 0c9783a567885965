import ExportCore

/// A `WorkerControlStore` kept in memory: shared by every worker of one process that is given it.
public actor InMemoryWorkerControlStore: WorkerControlStore {
    private var control = WorkerControl()

    /// Makes chosen operations fail; see ``FaultInjector`` (`workerControl` and `setWorkerControl`).
    public nonisolated let faults: FaultInjector

    /// Creates a store in which workers run.
    ///
    /// - Parameters:
    ///   - faults: The fault injector to consult; a fresh one by default.
    public init(faults: FaultInjector = FaultInjector()) {
        self.faults = faults
    }

    /// Reads the switch.
    ///
    /// - Returns: The stored switch, `WorkerControl()` until one is written.
    /// - Throws: An injected `ExportError`.
    public func workerControl() async throws -> WorkerControl {
        try faults.check(.workerControl)
        return control
    }

    /// Replaces the switch.
    ///
    /// - Parameters:
    ///   - control: The new switch.
    /// - Throws: An injected `ExportError`.
    public func setWorkerControl(_ control: WorkerControl) async throws {
        try faults.check(.setWorkerControl)
        self.control = control
    }
}
