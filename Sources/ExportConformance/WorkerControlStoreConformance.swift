import ExportCore
import Foundation

/// Checks that a `WorkerControlStore` keeps the promises of the port: the last write wins, and a second
/// store on the same storage sees it (the pause reaches every instance). The default of a store never
/// written to ("not paused") cannot be checked on shared storage; test it on fresh storage yourself.
///
/// ```swift
/// @Test func conforms() async throws {
///     let directory = temporaryDirectory()
///     try await WorkerControlStoreConformance(
///         makeStore: { try FileWorkerControlStore(directory: directory) }
///     ).run()
/// }
/// ```
///
/// `makeStore` must return stores on the same storage each time it is called (the suite compares two
/// of them). Against a shared durable service the suite leaves workers running (not paused) at the end.
public struct WorkerControlStoreConformance: Sendable {
    let makeStore: @Sendable () async throws -> any WorkerControlStore

    /// Creates the suite.
    ///
    /// - Parameters:
    ///   - makeStore: Makes a store on the storage under test; called more than once.
    public init(makeStore: @escaping @Sendable () async throws -> any WorkerControlStore) {
        self.makeStore = makeStore
    }

    /// Runs every case.
    ///
    /// - Throws: ``ConformanceFailure`` at the first broken requirement, or the store's own error.
    public func run() async throws {
        try await runCase("WorkerControlStore", "the last write wins and every store on the storage sees it", sharedLastWriteWins)
    }

    private func sharedLastWriteWins() async throws {
        let writer = try await makeStore()
        let reader = try await makeStore()
        let token = runToken()
        let at = Date(timeIntervalSince1970: 946_684_800)
        let paused = WorkerControl(paused: true, changedAt: at, changedBy: OperatorID("op-\(token)"), reason: "maintenance \(token)")
        try await writer.setWorkerControl(paused)
        let seen = try await reader.workerControl()
        try check(seen == paused, "another store on the same storage read \(seen), expected \(paused)")
        let resumed = WorkerControl(paused: false, changedAt: at.addingTimeInterval(60), changedBy: OperatorID("op-\(token)"), reason: nil)
        try await reader.setWorkerControl(resumed)
        let after = try await writer.workerControl()
        try check(after == resumed, "the last write did not win: read \(after), expected \(resumed)")
    }
}
