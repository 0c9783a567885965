import Foundation

/// The library's one reader and writer of dates as text: RFC 3339 §5.6 `date-time`, strictly.
///
/// **Reading** accepts the grammar of RFC 3339 §5.6 and nothing else:
///
/// ```
/// date-time = full-date "T" full-time          ; "T" and "Z" may be lower case (§5.6 NOTE)
/// full-date = YYYY "-" MM "-" DD               ; a real day of the proleptic Gregorian calendar
/// full-time = hh ":" mm ":" ss [ "." 1*9DIGIT ] ( "Z" / ( "+" / "-" ) hh ":" mm )
/// ```
///
/// - At most ``maximumFractionDigits`` (9, nanoseconds) fraction digits; more are **refused**, never
///   rounded or truncated, here and everywhere the library reads a date.
/// - No leading or trailing text, no space instead of `T`, no missing seconds, no `+0200` or `+02`.
/// - Days are checked against the month (`2026-02-31` is refused, not rolled over), hours 00–23,
///   minutes 00–59, offsets −23:59…+23:59 (`-00:00`, "offset unknown", reads as UTC).
/// - A leap second (`:60`) is accepted only where one can occur, at 23:59:60 UTC on the last day of a
///   month, and reads as the instant that follows (as POSIX time does): `2016-12-31T23:59:60.5Z` is
///   `2017-01-01T00:00:00.5Z`.
/// - The calendar is the proleptic Gregorian one for every year, 0000 included (RFC 3339 §1: no Julian
///   dates before 1582-10-15, unlike Foundation's formatters).
///
/// Parsing is hand-written over the UTF-8 bytes; untrusted text never reaches Foundation's date
/// formatters (ICU), which crash on some inputs and read others wrongly.
///
/// **Writing** produces UTC with `Z` and a four-digit year (0000–9999), with 0 to 9 fraction digits,
/// rounded to the nearest.
public enum RFC3339 {
    /// The most fraction digits ``parse(_:)`` accepts: nanoseconds.
    public static let maximumFractionDigits = 9

    /// Why a text is not an RFC 3339 date-time, and where.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The 1-based position (in UTF-8 bytes) of the first byte that is wrong, or one past the end
        /// when the text stops early.
        public let column: Int
        /// What is wrong, such as `the day is past the end of the month`.
        public let reason: String

        /// Creates an error.
        ///
        /// - Parameters:
        ///   - column: The 1-based byte position of the problem.
        ///   - reason: What is wrong.
        public init(column: Int, reason: String) {
            self.column = column
            self.reason = reason
        }

        /// `column 12: expected "T" between the date and the time`.
        public var description: String { "column \(column): \(reason)" }
    }

    /// Reads an RFC 3339 date-time.
    ///
    /// - Parameters:
    ///   - text: The whole text; nothing may precede or follow the date.
    /// - Returns: The instant.
    /// - Throws: ``ParseError`` with the column of the first wrong byte.
    public static func parse(_ text: some StringProtocol) throws(ParseError) -> Date {
        var string = String(text)
        // `withUTF8` rethrows untyped errors, so the typed error travels in a `Result`.
        return try string.withUTF8 { bytes in Result { () throws(ParseError) in try parse(utf8: bytes) } }.get()
    }

    /// Reads an RFC 3339 date-time from UTF-8 bytes.
    ///
    /// - Parameters:
    ///   - bytes: The whole text's UTF-8.
    /// - Returns: The instant.
    /// - Throws: ``ParseError`` with the column of the first wrong byte.
    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(ParseError) -> Date {
        let parsed = try components(bytes)
        return Date(timeIntervalSinceReferenceDate: Double(parsed.seconds - referenceEpoch) + Double(parsed.nanoseconds) / 1e9)
    }

    /// Reads an RFC 3339 date-time to whole seconds since 1970 and nanoseconds, with no floating point.
    ///
    /// - Parameters:
    ///   - bytes: The whole text's UTF-8.
    /// - Returns: Seconds since 1970-01-01T00:00:00Z (floor) and the nanoseconds after them (0…999,999,999).
    /// - Throws: ``ParseError`` with the column of the first wrong byte.
    public static func components(_ bytes: UnsafeBufferPointer<UInt8>) throws(ParseError) -> (seconds: Int64, nanoseconds: Int32) {
        var reader = Reader(bytes: bytes)
        let year = try reader.digits(4, "a four-digit year")
        try reader.expect(UInt8(ascii: "-"), "expected \"-\" after the year")
        let month = try reader.digits(2, "a two-digit month")
        guard (1...12).contains(month) else { throw reader.error(at: reader.index - 2, "the month is not 01 to 12") }
        try reader.expect(UInt8(ascii: "-"), "expected \"-\" after the month")
        let day = try reader.digits(2, "a two-digit day")
        guard day >= 1, day <= daysInMonth(year: year, month: month) else {
            throw reader.error(at: reader.index - 2, "the day is past the end of the month (or 00)")
        }
        try reader.expect(oneOf: UInt8(ascii: "T"), UInt8(ascii: "t"), "expected \"T\" between the date and the time")
        let hour = try reader.digits(2, "a two-digit hour")
        guard hour < 24 else { throw reader.error(at: reader.index - 2, "the hour is not 00 to 23") }
        try reader.expect(UInt8(ascii: ":"), "expected \":\" after the hour")
        let minute = try reader.digits(2, "two-digit minutes")
        guard minute < 60 else { throw reader.error(at: reader.index - 2, "the minutes are not 00 to 59") }
        try reader.expect(UInt8(ascii: ":"), "expected \":\" after the minutes")
        let secondColumn = reader.index
        let second = try reader.digits(2, "two-digit seconds")
        guard second <= 60 else { throw reader.error(at: secondColumn, "the seconds are not 00 to 60") }
        var nanoseconds: Int64 = 0
        if reader.peek == UInt8(ascii: ".") {
            reader.index += 1
            var count = 0
            while let byte = reader.peek, (0x30...0x39).contains(byte) {
                guard count < maximumFractionDigits else {
                    throw reader.error(at: reader.index, "more than \(maximumFractionDigits) fraction digits (nanoseconds)")
                }
                nanoseconds = nanoseconds * 10 + Int64(byte - 0x30)
                count += 1
                reader.index += 1
            }
            guard count > 0 else { throw reader.error(at: reader.index, "expected a digit after the decimal point") }
            for _ in count..<maximumFractionDigits { nanoseconds *= 10 }
        }
        let offsetMinutes: Int64
        switch reader.peek {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            reader.index += 1
            offsetMinutes = 0
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = reader.peek == UInt8(ascii: "-") ? -1 : 1
            reader.index += 1
            let offsetHour = try reader.digits(2, "a two-digit offset hour")
            guard offsetHour < 24 else { throw reader.error(at: reader.index - 2, "the offset hour is not 00 to 23") }
            try reader.expect(UInt8(ascii: ":"), "expected \":\" in the offset")
            let offsetMinute = try reader.digits(2, "two-digit offset minutes")
            guard offsetMinute < 60 else { throw reader.error(at: reader.index - 2, "the offset minutes are not 00 to 59") }
            offsetMinutes = sign * Int64(offsetHour * 60 + offsetMinute)
        default:
            throw reader.error(at: reader.index, "expected \"Z\" or an offset such as +02:00 after the time")
        }
        guard reader.index == bytes.count else { throw reader.error(at: reader.index, "text after the date") }

        let days = daysSinceEpoch(year: Int64(year), month: Int64(month), day: Int64(day))
        var seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - offsetMinutes * 60
        if second == 60 {
            // Only the last second of a UTC month may be a leap second.
            let next = seconds + 1
            let nextDay = (next >= 0 ? next : next - 86_399) / 86_400  // floor
            guard next == nextDay * 86_400, civil(fromDays: nextDay).day == 1 else { throw reader.error(at: secondColumn, "a leap second (:60) is only possible at 23:59:60 UTC on a month's last day") }
            seconds = next
        }
        return (seconds, Int32(nanoseconds))
    }

    /// Writes `date` as RFC 3339 UTC, such as `2026-01-01T09:30:00.250Z`.
    ///
    /// - Parameters:
    ///   - date: The instant.
    ///   - fractionDigits: Digits after the seconds, 0 to 9 (clamped); the time is rounded to the nearest.
    /// - Returns: The text, or `nil` when the (rounded) year is outside 0000…9999 or the date is not finite.
    public static func string(_ date: Date, fractionDigits: Int = 0) -> String? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximumLength) { scratch in
            guard let base = scratch.baseAddress,
                let length = write(date, fractionDigits: fractionDigits, omittingZeroFraction: false, to: base)
            else { return nil }
            return String(decoding: UnsafeBufferPointer(start: base, count: length), as: UTF8.self)
        }
    }

    // MARK: Internals shared with the encoders

    /// The longest text: `yyyy-mm-ddThh:mm:ss.nnnnnnnnnZ`.
    static let maximumLength = 30
    /// 1970-01-01 to 2001-01-01 (Foundation's reference date), in seconds.
    static let referenceEpoch: Int64 = 978_307_200
    /// 0000-01-01T00:00:00Z in seconds since 1970.
    static let earliest: Int64 = -62_167_219_200
    /// 10000-01-01T00:00:00Z in seconds since 1970 (exclusive).
    static let latest: Int64 = 253_402_300_800
    private static let powersOfTen: [Int64] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000]

    /// Whether `date` can be written with `fractionDigits` digits (year 0000 to 9999 once rounded).
    static func canWrite(_ date: Date, fractionDigits: Int = 3) -> Bool {
        split(date, fractionDigits: fractionDigits) != nil
    }

    /// Whole seconds since 1970 and the fraction in units of 10^-digits, rounded half up; no libm call.
    @inline(__always)
    private static func split(_ date: Date, fractionDigits: Int) -> (seconds: Int64, units: Int64, scale: Int64)? {
        let digits = min(max(fractionDigits, 0), maximumFractionDigits)
        let scale = powersOfTen[digits]
        // Work from the reference date, where the Double is stored: counting from 1970 would cost a bit.
        let t = date.timeIntervalSinceReferenceDate
        guard t > Double(earliest - referenceEpoch) - 1, t < Double(latest - referenceEpoch) + 1 else { return nil }  // NaN fails too
        var whole = Int64(t)  // toward zero
        if Double(whole) > t { whole -= 1 }  // floor
        let fraction = t - Double(whole)  // exact: 0 <= fraction < 1
        var units = Int64(fraction * Double(scale) + 0.5)
        if units >= scale {
            units -= scale
            whole += 1
        }
        let seconds = whole + referenceEpoch
        guard seconds >= earliest, seconds < latest else { return nil }
        return (seconds, units, scale)
    }

    /// Writes `date` at `out`, which must have room for ``maximumLength`` bytes.
    ///
    /// - Parameters:
    ///   - date: The instant.
    ///   - fractionDigits: 0 to 9.
    ///   - omittingZeroFraction: Leave out the fraction when it rounds to zero (`…:00Z`, not `…:00.000Z`).
    ///   - out: Where to write.
    /// - Returns: The number of bytes written, or `nil` when the date is out of range.
    @inline(__always)
    static func write(_ date: Date, fractionDigits: Int, omittingZeroFraction: Bool, to out: UnsafeMutablePointer<UInt8>) -> Int? {
        guard let (seconds, units, scale) = split(date, fractionDigits: fractionDigits) else { return nil }
        // From here on everything is non-negative, so unsigned arithmetic (cheaper divisions) works.
        let sinceYearZero = UInt64(seconds - earliest)
        let daysSinceYearZero = UInt32(truncatingIfNeeded: sinceYearZero / 86_400)
        let secondOfDay = UInt32(truncatingIfNeeded: sinceYearZero % 86_400)
        let (year, month, day) = civil(daysSinceYearZero: daysSinceYearZero)
        let century = year / 100
        writeTwoDigits(century, to: out)
        writeTwoDigits(year - century * 100, to: out + 2)
        out[4] = UInt8(ascii: "-")
        writeTwoDigits(month, to: out + 5)
        out[7] = UInt8(ascii: "-")
        writeTwoDigits(day, to: out + 8)
        out[10] = UInt8(ascii: "T")
        let minutes = secondOfDay / 60
        let hours = minutes / 60
        writeTwoDigits(hours, to: out + 11)
        out[13] = UInt8(ascii: ":")
        writeTwoDigits(minutes - hours * 60, to: out + 14)
        out[16] = UInt8(ascii: ":")
        writeTwoDigits(secondOfDay - minutes * 60, to: out + 17)
        guard scale > 1, !(omittingZeroFraction && units == 0) else {
            out[19] = UInt8(ascii: "Z")
            return 20
        }
        out[19] = UInt8(ascii: ".")
        var index = 20
        var divisor = scale / 10
        var rest = units
        while divisor > 0 {
            let digit = rest / divisor
            out[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: digit)
            rest -= digit * divisor
            divisor /= 10
            index += 1
        }
        out[index] = UInt8(ascii: "Z")
        return index + 1
    }

    /// Days in a month of the proleptic Gregorian calendar.
    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's `days_from_civil`: a proleptic Gregorian date to days since 1970-01-01.
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Days since 0000-01-01 (proleptic Gregorian) to a civil date,
    /// by Neri and Schneider's "Euclidean affine functions" algorithm (2021), in 32-bit unsigned
    /// arithmetic; valid far beyond the years 0000…9999 used here.
    @inline(__always)
    static func civil(daysSinceYearZero days: UInt32) -> (year: UInt32, month: UInt32, day: UInt32) {
        // Count from 0000-03-01 (day 60 of year 0, a leap year), so leap days fall at the end of a year.
        let n = days &- 60 &+ 146_097  // one 400-year era of headroom keeps it non-negative
        let n1 = 4 &* n &+ 3
        let centuries = n1 / 146_097
        let dayOfCentury = n1 % 146_097 / 4
        let n2 = 4 &* dayOfCentury &+ 3
        let p2 = UInt64(2_939_745) &* UInt64(n2)
        let yearOfCentury = UInt32(truncatingIfNeeded: p2 >> 32)
        let dayOfYear = UInt32(truncatingIfNeeded: p2) / 2_939_745 / 4
        let n3 = 2141 &* dayOfYear &+ 197_913
        let month = n3 >> 16
        let day = (n3 & 0xFFFF) / 2141 + 1
        let january = dayOfYear >= 306
        let year = 100 &* centuries &+ yearOfCentury &+ (january ? 1 : 0) &- 400
        return (year, january ? month &- 12 : month, day)
    }

    /// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to a proleptic Gregorian date.
    @inline(__always)
    static func civil(fromDays z: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    @inline(__always)
    private static func writeTwoDigits(_ value: UInt32, to out: UnsafeMutablePointer<UInt8>) {
        let tens = value / 10
        out[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: tens)
        out[1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value - tens * 10)
    }

    /// A cursor over the bytes being parsed.
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        func error(at index: Int, _ reason: String) -> ParseError {
            ParseError(column: index + 1, reason: index >= bytes.count ? "the text ends early: \(reason)" : reason)
        }

        mutating func digits(_ count: Int, _ what: String) throws(ParseError) -> Int {
            var value = 0
            for _ in 0..<count {
                guard let byte = peek, (0x30...0x39).contains(byte) else { throw error(at: index, "expected \(what)") }
                value = value * 10 + Int(byte - 0x30)
                index += 1
            }
            return value
        }

        mutating func expect(_ byte: UInt8, _ reason: String) throws(ParseError) {
            guard peek == byte else { throw error(at: index, reason) }
            index += 1
        }

        mutating func expect(oneOf first: UInt8, _ second: UInt8, _ reason: String) throws(ParseError) {
            guard peek == first || peek == second else { throw error(at: index, reason) }
            index += 1
        }
    }
}
