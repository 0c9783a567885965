import Foundation

/// Turns a wall-clock time in a zone into an instant, the way cron treats daylight-saving changes.
enum LocalTimeResolver {
    /// The instant of a local wall-clock time (seconds since 1970-01-01T00:00 local).
    ///
    /// A time that happens twice (clocks went back) resolves to its first, earlier occurrence; a time
    /// that does not happen (clocks went forward over it) resolves to the end of the gap, the first
    /// valid instant after it.
    static func instant(ofLocalSeconds local: Int64, in timeZone: TimeZone) -> Date {
        func offset(_ instant: Int64) -> Int64 {
            Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
        }
        // Every zone's offset lies within -12 h…+14 h, so the instant lies within this window; the
        // offsets in force at its two ends are the only candidates (no zone changes twice in a day).
        let before = offset(local - 15 * 3600)
        let after = offset(local + 13 * 3600)
        let valid = Set([before, after]).map { local - $0 }.filter { local - offset($0) == $0 }
        if let first = valid.min() { return Date(timeIntervalSince1970: TimeInterval(first)) }
        // In a gap: the transition lies between the two readings; find its first second.
        var low = local - max(before, after)  // still on the old offset
        var high = local - min(before, after)  // already on the new one
        let oldOffset = offset(low)
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offset(middle) == oldOffset { low = middle } else { high = middle }
        }
        return Date(timeIntervalSince1970: TimeInterval(high))
    }
}
