import Foundation

/// A standard 5-field cron expression (`minute hour day-of-month month day-of-week`), evaluated in an
/// IANA time zone.
///
/// Each field takes `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (from `a` to the
/// field's end), or a comma-separated list of those. Months take `JAN`–`DEC` and days of the week
/// `SUN`–`SAT` (case-insensitive; `0` and `7` are both Sunday). `@yearly`, `@annually`, `@monthly`,
/// `@weekly`, `@daily`, `@midnight` and `@hourly` stand for their usual expressions. `L`, `W`, `#` and
/// `?` are not standard cron and are rejected.
///
/// As in Vixie cron, when both day fields are restricted (neither starts with `*`), a day matches when
/// **either** matches (`0 0 1,15 * MON` fires on the 1st, the 15th and every Monday); otherwise both must.
///
/// Daylight-saving time is handled as cron does: a local time that does not exist (skipped when clocks
/// go forward) fires once at the first valid instant after the gap, and a local time that happens twice
/// (when clocks go back) fires once, at its first occurrence.
public struct ExportCronExpression: Hashable, Sendable, CustomStringConvertible {
    /// The expression as written.
    public let source: String
    let minutes: UInt64
    let hours: UInt64
    let daysOfMonth: UInt64
    let months: UInt64
    let daysOfWeek: UInt64
    let dayOfMonthStar: Bool
    let dayOfWeekStar: Bool

    /// Parses an expression.
    ///
    /// - Parameters:
    ///   - text: Five fields separated by spaces, or a macro such as `@daily`.
    /// - Throws: ``ExportError/Code/invalidSchedule`` naming the field and what is wrong with it.
    public init(_ text: String) throws(ExportError) {
        source = text
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded = try Self.expandMacro(trimmed)
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ExportError(
                .invalidSchedule,
                "cron expression \(String(reflecting: String(text.prefix(80)))) has \(fields.count) fields; it needs 5: minute hour day-of-month month day-of-week")
        }
        minutes = try CronField.minute.parse(fields[0])
        hours = try CronField.hour.parse(fields[1])
        daysOfMonth = try CronField.dayOfMonth.parse(fields[2])
        months = try CronField.month.parse(fields[3])
        let weekdays = try CronField.dayOfWeek.parse(fields[4])
        daysOfWeek = (weekdays & 0x7F) | (weekdays >> 7 & 1)  // 7 is Sunday, like 0
        dayOfMonthStar = fields[2].hasPrefix("*")
        dayOfWeekStar = fields[4].hasPrefix("*")
    }

    /// The expression as written.
    public var description: String { source }

    private static func expandMacro(_ text: String) throws(ExportError) -> String {
        guard text.hasPrefix("@") else { return text }
        switch text.lowercased() {
        case "@yearly", "@annually": return "0 0 1 1 *"
        case "@monthly": return "0 0 1 * *"
        case "@weekly": return "0 0 * * 0"
        case "@daily", "@midnight": return "0 0 * * *"
        case "@hourly": return "0 * * * *"
        default:
            throw ExportError(
                .invalidSchedule,
                "cron macro \(String(reflecting: String(text.prefix(20)))) is not supported; use @yearly, @monthly, @weekly, @daily or @hourly")
        }
    }

    // MARK: Matching local (wall-clock) minutes

    /// Whether a local day matches the day fields (the OR rule when both are restricted).
    func matches(day: Int, weekday: Int) -> Bool {
        let byDate = daysOfMonth & (1 << UInt64(day)) != 0
        let byWeekday = daysOfWeek & (1 << UInt64(weekday)) != 0
        return dayOfMonthStar || dayOfWeekStar ? byDate && byWeekday : byDate || byWeekday
    }

    /// The first local minute strictly after `localMinute` (minutes since 1970-01-01T00:00 local wall
    /// time) that the expression matches, looking at most 30 years ahead; `nil` when there is none (such
    /// as `0 0 30 2 *`).
    func nextLocalMinute(after localMinute: Int64) -> Int64? {
        let start = localMinute + 1
        var day = CivilDate.floorDivide(start, 1440)
        var minuteOfDay = Int(start - day * 1440)
        for _ in 0..<(366 * 30) {
            let date = CivilDate(daysSinceEpoch: day)
            if months & (1 << UInt64(date.month)) != 0, matches(day: date.day, weekday: date.weekday) {
                var hour = minuteOfDay / 60
                var minute = minuteOfDay % 60
                while hour < 24 {
                    if hours & (1 << UInt64(hour)) != 0, let found = Self.firstBit(minutes, from: minute, below: 60) {
                        return day * 1440 + Int64(hour * 60 + found)
                    }
                    hour += 1
                    minute = 0
                }
            }
            day += 1
            minuteOfDay = 0
        }
        return nil
    }

    private static func firstBit(_ mask: UInt64, from start: Int, below end: Int) -> Int? {
        guard start < end else { return nil }
        let shifted = mask >> UInt64(start)
        guard shifted != 0 else { return nil }
        let found = start + shifted.trailingZeroBitCount
        return found < end ? found : nil
    }

    /// The first instant strictly after `date` at which the expression fires in `timeZone`.
    ///
    /// - Parameters:
    ///   - date: The instant to look after.
    ///   - timeZone: The zone whose wall clock the fields describe.
    /// - Returns: The next firing instant, or `nil` when the expression never fires again.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let offset = Int64(timeZone.secondsFromGMT(for: date))
        var localMinute = CivilDate.floorDivide(seconds + offset, 60)
        // A repeated local hour is walked through again (its minutes resolve to their first, earlier
        // occurrence, and are passed over), so the bound covers a day of minutes and more.
        for _ in 0..<4000 {
            guard let candidate = nextLocalMinute(after: localMinute) else { return nil }
            let instant = LocalTimeResolver.instant(ofLocalSeconds: candidate * 60, in: timeZone)
            if instant > date { return instant }
            localMinute = candidate
        }
        return nil
    }
}
