import Foundation

/// When a schedule fires: a 5-field cron expression read on a time zone's wall clock, or a fixed
/// interval from the schedule's start.
///
/// Encoded as `{"cron": "30 23 * * *"}` or `{"everySeconds": 3600}`.
public struct ExportRecurrence: Hashable, Sendable, Codable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case cron(ExportCronExpression)
        case interval(seconds: Int64)
    }
    private let kind: Kind

    private init(kind: Kind) { self.kind = kind }

    /// The shortest interval accepted: one minute, cron's own resolution.
    public static let minimumInterval: Duration = .seconds(60)

    /// A cron recurrence.
    ///
    /// - Parameters:
    ///   - expression: A 5-field cron expression or a macro such as `@daily`.
    /// - Returns: The recurrence.
    /// - Throws: ``ExportError/Code/invalidSchedule`` naming the field at fault.
    public static func cron(_ expression: String) throws(ExportError) -> ExportRecurrence {
        ExportRecurrence(kind: .cron(try ExportCronExpression(expression)))
    }

    /// A fixed-interval recurrence: the schedule's start, then every `interval` after it.
    ///
    /// - Parameters:
    ///   - interval: Whole seconds, at least ``minimumInterval``.
    /// - Returns: The recurrence.
    /// - Throws: ``ExportError/Code/invalidSchedule`` for a shorter or fractional interval.
    public static func every(_ interval: Duration) throws(ExportError) -> ExportRecurrence {
        let (seconds, attoseconds) = interval.components
        guard attoseconds == 0, interval >= minimumInterval, seconds <= 10 * 366 * 86400 else {
            throw ExportError(.invalidSchedule, "interval \(interval) must be whole seconds from 60 to ten years")
        }
        return ExportRecurrence(kind: .interval(seconds: seconds))
    }

    /// The cron expression, for a cron recurrence.
    public var cronExpression: String? {
        if case .cron(let expression) = kind { return expression.source }
        return nil
    }

    /// The interval, for an interval recurrence.
    public var interval: Duration? {
        if case .interval(let seconds) = kind { return .seconds(seconds) }
        return nil
    }

    /// The first firing strictly after `date`.
    ///
    /// - Parameters:
    ///   - date: The instant to look after.
    ///   - start: The schedule's start: intervals count from it, and nothing fires before it.
    ///   - timeZone: The wall clock a cron expression is read on.
    /// - Returns: The instant, or `nil` when it never fires again.
    public func next(after date: Date, start: Date, in timeZone: TimeZone) -> Date? {
        let from = max(date, start.addingTimeInterval(-0.001))
        switch kind {
        case .cron(let expression):
            return expression.next(after: from, in: timeZone)
        case .interval(let seconds):
            // Whole seconds (slots are named in whole seconds), never before the start: a start of
            // 10:00:00.4 fires first at 10:00:01, not one interval later.
            let anchor = start.timeIntervalSince1970.rounded(.up)
            let elapsed = from.timeIntervalSince1970 - anchor
            if elapsed < 0 { return Date(timeIntervalSince1970: anchor) }
            let periods = (elapsed / Double(seconds)).rounded(.down) + 1
            return Date(timeIntervalSince1970: anchor + periods * Double(seconds))
        }
    }

    /// The last firing strictly before `date`, ignoring the schedule's start (a window's lower end).
    ///
    /// An interval's is `date` minus the interval. A cron expression's is found by looking back an
    /// hour, a day, a month, a year and then thirty years, and stepping forward from there.
    ///
    /// - Parameters:
    ///   - date: An occurrence.
    ///   - timeZone: The wall clock a cron expression is read on.
    /// - Returns: The instant, or `nil` when the expression did not fire in the thirty years before.
    public func previous(before date: Date, in timeZone: TimeZone) -> Date? {
        switch kind {
        case .interval(let seconds):
            return date.addingTimeInterval(-Double(seconds))
        case .cron(let expression):
            for window: TimeInterval in [3600, 86400, 32 * 86400, 367 * 86400, 30 * 367 * 86400] {
                guard var candidate = expression.next(after: date.addingTimeInterval(-window), in: timeZone), candidate < date else { continue }
                while let next = expression.next(after: candidate, in: timeZone), next < date { candidate = next }
                return candidate
            }
            return nil
        }
    }

    /// `cron 30 23 * * *` or `every 3600 s`.
    public var description: String {
        switch kind {
        case .cron(let expression): "cron \(expression.source)"
        case .interval(let seconds): "every \(seconds) s"
        }
    }

    private enum CodingKeys: String, CodingKey { case cron, everySeconds }

    /// Decodes and validates a recurrence.
    ///
    /// - Parameters:
    ///   - decoder: The decoder.
    /// - Throws: A decoding error for a missing or invalid recurrence.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let cron = try container.decodeIfPresent(String.self, forKey: .cron) {
            self = try Self.cron(cron)
        } else if let seconds = try container.decodeIfPresent(Int64.self, forKey: .everySeconds) {
            self = try Self.every(.seconds(seconds))
        } else {
            throw DecodingError.dataCorruptedError(forKey: .cron, in: container, debugDescription: "a recurrence needs cron or everySeconds")
        }
    }

    /// Encodes as `{"cron": …}` or `{"everySeconds": …}`.
    ///
    /// - Parameters:
    ///   - encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch kind {
        case .cron(let expression): try container.encode(expression.source, forKey: .cron)
        case .interval(let seconds): try container.encode(seconds, forKey: .everySeconds)
        }
    }
}
