import ExportCore
import Foundation

/// A wall clock that runs `speed` times faster than real time from a shared origin, so several
/// processes agree on the time: for demos and tests of schedules, where waiting for real hours is not
/// an option. `now = start + (real now − origin) × speed`; sleeps are divided by `speed`.
public struct AcceleratedClock: ExportClock {
    /// The real instant at which the clock reads ``start``.
    public let origin: Date
    /// What the clock reads at ``origin``.
    public let start: Date
    /// How many clock seconds pass per real second.
    public let speed: Double

    /// Creates a clock.
    ///
    /// - Parameters:
    ///   - origin: The real instant the clock reads `start` at.
    ///   - start: The clock's reading at `origin`.
    ///   - speed: Clock seconds per real second (at least 1).
    public init(origin: Date, start: Date, speed: Double) {
        self.origin = origin
        self.start = start
        self.speed = max(1, speed)
    }

    /// The accelerated time.
    ///
    /// - Returns: `start + (Date() − origin) × speed`.
    public func now() -> Date { start.addingTimeInterval(Date().timeIntervalSince(origin) * speed) }

    /// Sleeps `duration / speed` of real time.
    ///
    /// - Parameters:
    ///   - duration: Clock time to wait.
    /// - Throws: `CancellationError` when cancelled.
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration / speed)
    }
}
