import Foundation

/// Durable storage of the one ``WorkerControl`` record that pauses and resumes every worker.
///
/// A separate port from ``JobStore`` (a backend may keep the record in the same table or directory),
/// so a host that never pauses workers implements nothing more and ``ExportPorts/workerControl`` is
/// `nil`: its workers never pause and ``ExportAdministration/pauseWorkers(by:reason:)`` throws
/// ``ExportError/Code/unsupported``.
///
/// ## Implementation requirements
/// - **Shared.** Every store made on the same storage (every process of a host) reads what any of
///   them wrote last: this is what makes a pause reach all instances.
/// - **Default.** A store on which nothing was ever written answers `WorkerControl()` (not paused).
/// - **Atomic.** A reader sees a complete record, never a mix of two writes; the last write wins.
/// - **Cheap reads.** Workers read the record about every few seconds each
///   (``ExportWorker/Configuration/pauseCheckInterval``).
public protocol WorkerControlStore: Sendable {
    /// Reads the switch.
    ///
    /// - Returns: The stored switch, or `WorkerControl()` when none was written.
    /// - Throws: ``ExportError`` when storage fails or the record is corrupt.
    func workerControl() async throws -> WorkerControl

    /// Replaces the switch.
    ///
    /// - Parameters:
    ///   - control: The new switch.
    /// - Throws: ``ExportError`` when storage fails.
    func setWorkerControl(_ control: WorkerControl) async throws
}
