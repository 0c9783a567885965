import ExportCore
import Foundation
import Testing

/// The cron engine: every field form, the day OR rule, macros, clear errors, and real daylight-saving
/// transitions (expected instants computed independently with Python's `zoneinfo` from the tz database).
@Suite("Cron expressions")
struct CronExpressionTests {
    static func date(_ text: String) -> Date { try! RFC3339.parse(text) }
    static let utc = TimeZone(identifier: "UTC")!

    /// The next `count` firings after `start`, as RFC 3339 strings.
    static func firings(_ expression: String, after start: String, in zone: String = "UTC", count: Int) throws -> [String] {
        let cron = try ExportCronExpression(expression)
        let timeZone = try #require(TimeZone(identifier: zone))
        var current = date(start)
        var result: [String] = []
        for _ in 0..<count {
            guard let next = cron.next(after: current, in: timeZone) else { break }
            result.append(RFC3339.string(next)!)
            current = next
        }
        return result
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let expression: String
        let start: String
        let expected: [String]
        var testDescription: String { expression }
    }

    // 2026-01-01 is a Thursday.
    static let forms: [Case] = [
        Case(expression: "*/15 * * * *", start: "2026-01-01T00:07:00Z",
             expected: ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z", "2026-01-01T01:00:00Z"]),
        Case(expression: "0,30 9-10 * * *", start: "2026-01-01T00:00:00Z",
             expected: ["2026-01-01T09:00:00Z", "2026-01-01T09:30:00Z", "2026-01-01T10:00:00Z", "2026-01-01T10:30:00Z", "2026-01-02T09:00:00Z"]),
        Case(expression: "5-20/5 * * * *", start: "2026-01-01T00:00:00Z",
             expected: ["2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z", "2026-01-01T00:15:00Z", "2026-01-01T00:20:00Z", "2026-01-01T01:05:00Z"]),
        Case(expression: "10/20 * * * *", start: "2026-01-01T00:00:00Z",
             expected: ["2026-01-01T00:10:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:50:00Z", "2026-01-01T01:10:00Z"]),
        Case(expression: "0 0 1 JAN,mar *", start: "2026-01-01T00:00:00Z",
             expected: ["2026-03-01T00:00:00Z", "2027-01-01T00:00:00Z"]),
        Case(expression: "0 12 * * MON-FRI", start: "2026-01-01T00:00:00Z",
             expected: ["2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z", "2026-01-05T12:00:00Z"]),
        Case(expression: "0 0 * * 7", start: "2026-01-01T00:00:00Z", expected: ["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"]),
        Case(expression: "0 0 * * 5-7", start: "2026-01-01T00:00:00Z",
             expected: ["2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z", "2026-01-09T00:00:00Z"]),
        // Both day fields restricted: the 13th OR a Friday.
        Case(expression: "0 0 13 * FRI", start: "2026-01-01T00:00:00Z",
             expected: ["2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z"]),
        // A field starting with `*` is not restricted: both must match (the 1st, 11th, 21st, 31st AND a Sunday).
        Case(expression: "0 0 */10 * SUN", start: "2026-01-01T00:00:00Z", expected: ["2026-01-11T00:00:00Z", "2026-02-01T00:00:00Z"]),
        Case(expression: "0 0 29 2 *", start: "2026-01-01T00:00:00Z", expected: ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"]),
        Case(expression: "@hourly", start: "2026-01-01T00:30:00Z", expected: ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"]),
        Case(expression: "@weekly", start: "2026-01-01T00:00:00Z", expected: ["2026-01-04T00:00:00Z"]),
        Case(expression: "@monthly", start: "2026-01-31T10:00:00Z", expected: ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"]),
        Case(expression: "@yearly", start: "2026-01-01T00:00:00Z", expected: ["2027-01-01T00:00:00Z"]),
        Case(expression: "59 23 31 DEC *", start: "2026-12-31T23:59:00Z", expected: ["2027-12-31T23:59:00Z"]),
    ]

    @Test("field forms", arguments: forms)
    func fieldForms(_ test: Case) throws {
        #expect(try Self.firings(test.expression, after: test.start, count: test.expected.count) == test.expected)
    }

    @Test("an expression that never fires has no next firing")
    func neverFires() throws {
        #expect(try ExportCronExpression("0 0 30 2 *").next(after: Self.date("2026-01-01T00:00:00Z"), in: Self.utc) == nil)
    }

    @Test(
        "bad expressions are typed errors naming the field",
        arguments: [
            ("60 * * * *", "minute"), ("* 24 * * *", "hour"), ("* * 0 * *", "day-of-month"), ("* * 32 * *", "day-of-month"),
            ("* * * 13 *", "month"), ("* * * FOO *", "month"), ("* * * * 8", "day-of-week"), ("* * L * *", "not standard cron"),
            ("* * * * 5L", "not standard cron"), ("*/0 * * * *", "step"), ("5-1 * * * *", "runs backwards"), ("* * * *", "it needs 5"),
            ("* * * * * *", "it needs 5"), ("@reboot", "macro"), ("1,,2 * * * *", "empty list item"), ("*/61 * * * *", "larger than"),
            ("", "it needs 5"), ("a-b * * * *", "minute"),
        ])
    func badExpressions(_ expression: String, _ mentions: String) {
        #expect {
            _ = try ExportCronExpression(expression)
        } throws: { error in
            guard let error = error as? ExportError else { return false }
            return error.code == .invalidSchedule && error.message.contains(mentions)
        }
    }

    // MARK: Time zones and daylight saving

    @Test("11:20 PM IST every day (no daylight saving)")
    func kolkata() throws {
        #expect(
            try Self.firings("20 23 * * *", after: "2026-03-07T00:00:00Z", in: "Asia/Kolkata", count: 2)
                == ["2026-03-07T17:50:00Z", "2026-03-08T17:50:00Z"])
    }

    @Test("New York spring forward: a skipped 02:30 fires once at 03:00 EDT")
    func newYorkSpringForwardFixedTime() throws {
        #expect(
            try Self.firings("30 2 * * *", after: "2026-03-07T12:00:00Z", in: "America/New_York", count: 3)
                == ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"])
    }

    @Test("New York spring forward: every 30 minutes collapses the gap into one firing")
    func newYorkSpringForwardWildcard() throws {
        #expect(
            try Self.firings("*/30 * * * *", after: "2026-03-08T05:45:00Z", in: "America/New_York", count: 4)
                == ["2026-03-08T06:00:00Z", "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z"])
    }

    @Test("New York fall back: a repeated 01:30 fires once, at its first occurrence")
    func newYorkFallBack() throws {
        #expect(
            try Self.firings("30 1 * * *", after: "2026-10-31T12:00:00Z", in: "America/New_York", count: 2)
                == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
        #expect(
            try Self.firings("*/30 * * * *", after: "2026-11-01T04:15:00Z", in: "America/New_York", count: 4)
                == ["2026-11-01T04:30:00Z", "2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z"])
    }

    @Test("London: the skipped 01:30 fires at 02:00 BST; the repeated 01:30 fires once")
    func london() throws {
        #expect(
            try Self.firings("30 1 * * *", after: "2026-03-28T12:00:00Z", in: "Europe/London", count: 2)
                == ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
        #expect(
            try Self.firings("30 1 * * *", after: "2026-10-24T12:00:00Z", in: "Europe/London", count: 2)
                == ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
    }

    @Test("Lord Howe: half-hour daylight saving in both directions")
    func lordHowe() throws {
        // 2026-10-04 02:00 +10:30 jumps to 02:30 +11: 02:15 does not exist and fires at the jump.
        #expect(
            try Self.firings("15 2 * * *", after: "2026-10-03T00:00:00Z", in: "Australia/Lord_Howe", count: 2)
                == ["2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"])
        // 2026-04-05 02:00 +11 falls back to 01:30 +10:30: 01:45 happens twice and fires once.
        #expect(
            try Self.firings("45 1 * * *", after: "2026-04-04T00:00:00Z", in: "Australia/Lord_Howe", count: 2)
                == ["2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"])
    }

    @Test("intervals count from the start, in any zone")
    func intervals() throws {
        let hourly = try ExportRecurrence.every(.seconds(3600))
        let start = Self.date("2026-03-08T06:10:00Z")
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        #expect(hourly.next(after: Self.date("2026-03-08T00:00:00Z"), start: start, in: newYork) == start)
        #expect(hourly.next(after: start, start: start, in: newYork) == Self.date("2026-03-08T07:10:00Z"))
        #expect(hourly.next(after: Self.date("2026-03-08T09:59:59Z"), start: start, in: newYork) == Self.date("2026-03-08T10:10:00Z"))
        #expect(throws: ExportError.self) { try ExportRecurrence.every(.seconds(59)) }
        #expect(throws: ExportError.self) { try ExportRecurrence.every(.milliseconds(60_500)) }
    }

    @Test("an interval whose start has a fraction of a second fires first at the next whole second, not one interval later")
    func fractionalStart() throws {
        let hourly = try ExportRecurrence.every(.seconds(3600))
        let start = Self.date("2026-03-08T06:10:00Z").addingTimeInterval(0.4)
        let first = hourly.next(after: start.addingTimeInterval(-1), start: start, in: .gmt)
        #expect(first == Self.date("2026-03-08T06:10:01Z"))
        #expect(hourly.next(after: try #require(first), start: start, in: .gmt) == Self.date("2026-03-08T07:10:01Z"))
    }

    @Test("previous(before:) is the last firing before an occurrence: months, weekdays, DST days, intervals")
    func previous() throws {
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let cases: [(String, String, String, TimeZone)] = [
            ("0 0 1 * *", "2026-03-01T00:00:00Z", "2026-02-01T00:00:00Z", .gmt),
            ("0 9 * * MON", "2026-03-09T09:00:00Z", "2026-03-02T09:00:00Z", .gmt),
            ("*/15 * * * *", "2026-03-09T09:00:00Z", "2026-03-09T08:45:00Z", .gmt),
            ("0 0 29 2 *", "2028-02-29T00:00:00Z", "2024-02-29T00:00:00Z", .gmt),
            // 02:30 does not exist on 8 March 2026 in New York: that day's run was at 03:00 EDT (07:00Z).
            ("30 2 * * *", "2026-03-09T06:30:00Z", "2026-03-08T07:00:00Z", newYork),
            // The day clocks go back is 25 hours long: 00:00 EDT to 00:00 EST.
            ("0 0 * * *", "2026-11-02T05:00:00Z", "2026-11-01T04:00:00Z", newYork),
        ]
        for (expression, slot, expected, zone) in cases {
            let recurrence = try ExportRecurrence.cron(expression)
            #expect(recurrence.previous(before: Self.date(slot), in: zone) == Self.date(expected), "\(expression) before \(slot)")
        }
        let hourly = try ExportRecurrence.every(.seconds(3600))
        #expect(hourly.previous(before: Self.date("2026-03-08T06:10:00Z"), in: .gmt) == Self.date("2026-03-08T05:10:00Z"))
    }

    @Test("recurrences round-trip through JSON and reject bad input on decoding")
    func coding() throws {
        for recurrence in [try ExportRecurrence.cron("0 9 * * MON"), try ExportRecurrence.every(.seconds(86400))] {
            let data = try JSONEncoder().encode(recurrence)
            #expect(try JSONDecoder().decode(ExportRecurrence.self, from: data) == recurrence)
        }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(ExportRecurrence.self, from: Data(#"{"cron":"61 * * * *"}"#.utf8)) }
    }
}
