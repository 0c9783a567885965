import Foundation

/// Hand-written ISO-8601 UTC formatting into bytes: `2024-03-01T09:30:00Z`, with `.mmm` milliseconds
/// only when the time has a fractional part. No formatter, no string, no allocation.
///
/// Times are rounded to the nearest millisecond (a `Date` is a binary floating-point number, so
/// `…:00.123` is stored as `…:00.12299999…`; truncating would print `.122`). Only years 0000 to 9999
/// can be written in this four-digit form; other dates, and non-finite ones, are refused.
enum ISO8601 {
    /// The longest text: `yyyy-mm-ddThh:mm:ss.mmmZ`.
    static let maximumLength = 24
    /// 0000-01-01T00:00:00Z in seconds since 1970.
    static let earliest: Double = -62_167_219_200
    /// 10000-01-01T00:00:00Z in seconds since 1970 (exclusive).
    static let latest: Double = 253_402_300_800

    /// Whether `date` can be written (year 0000 to 9999 once rounded to the millisecond).
    static func canWrite(_ date: Date) -> Bool {
        milliseconds(date) != nil
    }

    private static func milliseconds(_ date: Date) -> Int64? {
        // Round half away from zero by hand: `rounded()` is a libm call on baseline x86-64.
        let exact = date.timeIntervalSince1970 * 1000
        let milliseconds = exact + (exact < 0 ? -0.5 : 0.5)
        guard milliseconds > earliest * 1000 - 1, milliseconds < latest * 1000 else { return nil }
        return Int64(milliseconds)  // truncates toward zero; in range, and NaN failed the guard
    }

    /// Writes `date` at `out`, which must have room for ``maximumLength`` bytes.
    ///
    /// - Returns: The number of bytes written, or `nil` when the date is out of range.
    @inline(__always)
    static func write(_ date: Date, to out: UnsafeMutablePointer<UInt8>) -> Int? {
        guard let totalMilliseconds = milliseconds(date) else { return nil }
        // From here on everything is non-negative, so unsigned arithmetic (cheaper divisions) works.
        let sinceYearZero = UInt64(totalMilliseconds - Int64(earliest) * 1000)
        let daysSinceYearZero = UInt32(truncatingIfNeeded: sinceYearZero / 86_400_000)
        let millisecondOfDay = UInt32(truncatingIfNeeded: sinceYearZero % 86_400_000)
        let (year, month, day) = civil(daysSinceYearZero: daysSinceYearZero)
        let century = year / 100
        writeTwoDigits(century, to: out)
        writeTwoDigits(year - century * 100, to: out + 2)
        out[4] = UInt8(ascii: "-")
        writeTwoDigits(month, to: out + 5)
        out[7] = UInt8(ascii: "-")
        writeTwoDigits(day, to: out + 8)
        out[10] = UInt8(ascii: "T")
        let seconds = millisecondOfDay / 1000
        let minutes = seconds / 60
        let hours = minutes / 60
        writeTwoDigits(hours, to: out + 11)
        out[13] = UInt8(ascii: ":")
        writeTwoDigits(minutes - hours * 60, to: out + 14)
        out[16] = UInt8(ascii: ":")
        writeTwoDigits(seconds - minutes * 60, to: out + 17)
        let milliseconds = millisecondOfDay - seconds * 1000
        guard milliseconds != 0 else {
            out[19] = UInt8(ascii: "Z")
            return 20
        }
        out[19] = UInt8(ascii: ".")
        let hundreds = milliseconds / 100
        out[20] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: hundreds)
        writeTwoDigits(milliseconds - hundreds * 100, to: out + 21)
        out[23] = UInt8(ascii: "Z")
        return 24
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

    @inline(__always)
    private static func writeTwoDigits(_ value: UInt32, to out: UnsafeMutablePointer<UInt8>) {
        let tens = value / 10
        out[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: tens)
        out[1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value - tens * 10)
    }

    /// Appends `date` to `bytes`; nothing for a date out of range (see ``canWrite(_:)``).
    static func append(_ date: Date, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximumLength) { scratch in
            guard let base = scratch.baseAddress, let length = write(date, to: base) else { return }
            bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: length))
        }
    }

    /// The text form, for tests and non-hot paths; `nil` for a date out of range.
    static func string(_ date: Date) -> String? {
        guard canWrite(date) else { return nil }
        var bytes: [UInt8] = []
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
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
}
