import Foundation

/// The wall clock the pipeline reads and sleeps on, injected so tests control time.
///
/// Wall-clock `Date`s (not a monotonic clock) are used because leases, backoff deadlines and link
/// expiries are stored and compared across processes and machines.
public protocol ExportClock: Sendable {
    /// The current time.
    func now() -> Date

    /// Suspends until `duration` has passed on this clock.
    ///
    /// - Parameters:
    ///   - duration: How long to wait.
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    func sleep(for duration: Duration) async throws
}

/// The system's wall clock.
public struct SystemClock: ExportClock {
    /// Creates the system clock.
    public init() {}

    /// The current time.
    ///
    /// - Returns: `Date()`.
    public func now() -> Date { Date() }

    /// Sleeps on the continuous clock.
    ///
    /// - Parameters:
    ///   - duration: How long to wait.
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

extension Date {
    /// This date moved by a `Duration`.
    ///
    /// - Parameters:
    ///   - duration: The offset.
    /// - Returns: The new date.
    public func adding(_ duration: Duration) -> Date {
        addingTimeInterval(JobLifecycle.seconds(duration))
    }
}
