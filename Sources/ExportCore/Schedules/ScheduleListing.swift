import Foundation

/// The ordering and paging every ``ScheduleStore`` shares, so adapters that filter in memory agree on
/// the cursor and the order.
public enum ScheduleListing {
    /// One page of schedules, oldest first (creation time, then id), after `cursor`.
    ///
    /// - Parameters:
    ///   - schedules: One owner's schedules, in any order.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most to return (at least 1).
    /// - Returns: The page.
    /// - Throws: ``ExportError/Code/invalidRequest`` for a bad limit or cursor.
    public static func page(_ schedules: some Sequence<ExportSchedule>, after cursor: PageCursor?, limit: Int) throws(ExportError) -> Page<ExportSchedule> {
        guard limit >= 1 else { throw ExportError(.invalidRequest, "limit must be at least 1, got \(limit)") }
        var sorted = schedules.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        if let cursor {
            let parts = cursor.token.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let bits = UInt64(parts[0]), let id = ScheduleID(String(parts[1])) else {
                throw ExportError(.invalidRequest, "malformed schedule list cursor")
            }
            let createdAt = Date(timeIntervalSinceReferenceDate: Double(bitPattern: bits))
            sorted.removeAll { ($0.createdAt, $0.id) <= (createdAt, id) }
        }
        let items = Array(sorted.prefix(limit))
        let next = sorted.count > limit ? items.last.map(cursor(for:)) : nil
        return Page(items: items, next: next)
    }

    /// The cursor that designates a schedule.
    ///
    /// - Parameters:
    ///   - schedule: The last schedule of a page.
    /// - Returns: The cursor.
    public static func cursor(for schedule: ExportSchedule) -> PageCursor {
        PageCursor("\(schedule.createdAt.timeIntervalSinceReferenceDate.bitPattern).\(schedule.id.rawValue)")
    }

    /// The unpaused schedules due at `now`, earliest first.
    ///
    /// - Parameters:
    ///   - schedules: Candidates.
    ///   - now: The current time.
    ///   - limit: The most to return.
    /// - Returns: The due schedules.
    public static func due(_ schedules: some Sequence<ExportSchedule>, at now: Date, limit: Int) -> [ExportSchedule] {
        let due = schedules.filter { !$0.paused && ($0.nextRunAt.map { $0 <= now } ?? false) }
        return Array(due.sorted { ($0.nextRunAt ?? now, $0.id) < ($1.nextRunAt ?? now, $1.id) }.prefix(max(0, limit)))
    }
}
