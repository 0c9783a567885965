import Foundation

/// The time arithmetic of leases, delays and heartbeats: `Duration` and `Date` intervals in both
/// directions, clamped instead of trapping. Kept apart from the state machine it serves.
extension JobLifecycle {
    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    static func duration(from start: Date, to end: Date) -> Duration {
        .milliseconds(milliseconds(max(0, end.timeIntervalSince(start)), rounding: .up))
    }

    /// Whole milliseconds in `seconds`, clamped to `Int64`'s range instead of trapping (NaN counts as 0).
    static func milliseconds(_ seconds: TimeInterval, rounding rule: FloatingPointRoundingRule) -> Int64 {
        let value = (seconds * 1000).rounded(rule)
        guard !value.isNaN else { return 0 }
        if value >= 9.2e18 { return .max }
        if value <= -9.2e18 { return .min }
        return Int64(value)
    }
}
