import Foundation
import Testing

@testable import ExportCore

@Suite("RFC 3339 writing")
struct RFC3339WriterTests {
    /// What the CSV and JSON Lines encoders write: milliseconds, left out when zero.
    static func exportText(_ date: Date) -> String? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: RFC3339.maximumLength) { scratch in
            guard let length = RFC3339.write(date, fractionDigits: 3, omittingZeroFraction: true, to: scratch.baseAddress!) else {
                return nil
            }
            return String(decoding: UnsafeBufferPointer(start: scratch.baseAddress!, count: length), as: UTF8.self)
        }
    }

    /// Vectors worked out by hand and checked against `date -u -d @SECONDS +%FT%TZ` (GNU coreutils).
    @Test(
        "known instants",
        arguments: [
            (0.0, "1970-01-01T00:00:00Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (-0.001, "1969-12-31T23:59:59.999Z"),
            (0.123, "1970-01-01T00:00:00.123Z"),  // stored as 0.12299999…, printed .123
            (1.5, "1970-01-01T00:00:01.500Z"),
            (86_399.999, "1970-01-01T23:59:59.999Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),  // leap day of a 400-year leap year
            (951_868_800, "2000-03-01T00:00:00Z"),
            (1_709_164_800, "2024-02-29T00:00:00Z"),
            (-2_203_891_200, "1900-03-01T00:00:00Z"),  // 1900 is not a leap year: 02-28 is followed by 03-01
            (-2_203_977_600, "1900-02-28T00:00:00Z"),
            (-62_135_596_800, "0001-01-01T00:00:00Z"),
            (-62_167_219_200, "0000-01-01T00:00:00Z"),
            (-62_162_035_200, "0000-03-01T00:00:00Z"),  // year 0 is a leap year
            (-62_162_121_600, "0000-02-29T00:00:00Z"),
            (253_402_300_799.999, "9999-12-31T23:59:59.999Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
            (-14_182_940, "1969-07-20T20:17:40Z"),  // the Moon landing
        ])
    func knownInstants(_ seconds: Double, _ expected: String) {
        #expect(Self.exportText(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test("dates outside the years 0000…9999 and non-finite dates are refused", arguments: [
        -62_167_219_200.001, 253_402_300_800, 1e300, -1e300, Double.infinity, -Double.infinity, Double.nan,
    ])
    func outOfRange(_ seconds: Double) {
        #expect(Self.exportText(Date(timeIntervalSince1970: seconds)) == nil)
        #expect(!RFC3339.canWrite(Date(timeIntervalSince1970: seconds)))
    }

    @Test("the encoders round to the nearest millisecond")
    func rounding() {
        #expect(Self.exportText(Date(timeIntervalSince1970: 0.0004)) == "1970-01-01T00:00:00Z")
        #expect(Self.exportText(Date(timeIntervalSince1970: 0.0006)) == "1970-01-01T00:00:00.001Z")
        #expect(Self.exportText(Date(timeIntervalSince1970: 59.9996)) == "1970-01-01T00:01:00Z")
        #expect(Self.exportText(Date(timeIntervalSince1970: -0.0004)) == "1970-01-01T00:00:00Z")
        #expect(Self.exportText(Date(timeIntervalSince1970: -0.0006)) == "1969-12-31T23:59:59.999Z")
    }

    @Test("the fast calendar agrees with Hinnant's civil_from_days on every day from year 0000 to 9999")
    func calendarsAgree() {
        let firstDay: Int64 = -719_528  // 0000-01-01
        let lastDay: Int64 = 2_932_896  // 9999-12-31
        var day = firstDay
        var mismatches = 0
        while day <= lastDay {
            let reference = RFC3339.civil(fromDays: day)
            let fast = RFC3339.civil(daysSinceYearZero: UInt32(day - firstDay))
            if Int64(fast.year) != reference.year || Int64(fast.month) != reference.month || Int64(fast.day) != reference.day {
                mismatches += 1
            }
            day += 1
        }
        #expect(mismatches == 0)
    }

    @Test("agrees with Foundation's Gregorian calendar on random instants (years 1600…9999)")
    func agreesWithFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        var random = SplitMix64(seed: 8601)
        let low: Int64 = -11_676_096_000  // 1600-01-01
        let high: Int64 = 253_402_300_799
        for _ in 0..<2000 {
            let seconds = low + Int64(random.next() % UInt64(high - low))
            let date = Date(timeIntervalSince1970: Double(seconds))
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!,
                parts.second!)
            #expect(Self.exportText(date) == expected)
        }
    }

    @Test("string(_:fractionDigits:) writes 0 to 9 digits, rounded to the nearest")
    func fractionDigits() {
        let date = Date(timeIntervalSince1970: 1_767_225_600.25)
        #expect(RFC3339.string(date) == "2026-01-01T00:00:00Z")
        #expect(RFC3339.string(date, fractionDigits: 1) == "2026-01-01T00:00:00.3Z")  // .25 is exact: a tie goes up
        #expect(RFC3339.string(date, fractionDigits: 3) == "2026-01-01T00:00:00.250Z")
        #expect(RFC3339.string(date, fractionDigits: 9) == "2026-01-01T00:00:00.250000000Z")
        #expect(RFC3339.string(date, fractionDigits: 42) == "2026-01-01T00:00:00.250000000Z")  // clamped to 9
        // 0.99999988… s past the second carries into the next one.
        #expect(RFC3339.string(Date(timeIntervalSinceReferenceDate: 788_918_399.9999999), fractionDigits: 3) == "2026-01-01T00:00:00.000Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: .nan), fractionDigits: 9) == nil)
    }

    @Test("nine digits read back to the very same Date, for random instants of the years 1900…2200")
    func nanosecondsRoundTrip() throws {
        var random = SplitMix64(seed: 3339)
        let low = -2_208_988_800.0  // 1900-01-01
        let span = 9_467_280_000.0  // to 2200
        var mismatches: [String] = []
        for _ in 0..<5000 {
            let date = Date(timeIntervalSince1970: low + span * Double(random.next() >> 11) / Double(1 << 53))
            let text = try #require(RFC3339.string(date, fractionDigits: 9))
            let back = try RFC3339.parse(text)
            // Within 2^24 s (194 days) of 2001-01-01 a Double is finer than a nanosecond: there, what
            // comes back is the nearest nanosecond, rounded to a Double.
            let t = date.timeIntervalSinceReferenceDate
            if abs(t) < 16_777_216 {
                if abs(back.timeIntervalSinceReferenceDate - t) > 0.5e-9 + t.ulp { mismatches.append(text) }
            } else if back != date {
                mismatches.append(text)
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
}
