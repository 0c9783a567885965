import ExportCore
import Foundation
import Testing

/// RFC 3339 §5.6 reading. Expected instants from Python's `calendar.timegm` (proleptic Gregorian).
@Suite("RFC 3339 parsing")
struct RFC3339ParserTests {
    @Test(
        "valid date-times read to the exact instant",
        arguments: [
            ("2026-01-01T00:00:00Z", 1_767_225_600.0),
            ("2026-01-01t00:00:00z", 1_767_225_600),  // §5.6 NOTE: "T" and "Z" may be lower case
            ("2026-01-01T00:00:00.5Z", 1_767_225_600.5),
            ("2026-01-01T00:00:00.250000000Z", 1_767_225_600.25),
            ("2026-01-01T00:00:00+02:00", 1_767_218_400),  // fuzzing: the file and HTTP sources disagreed
            ("2026-01-01T00:00:00-00:00", 1_767_225_600),  // "offset unknown": UTC
            ("2025-12-31T23:01:00-23:00", 1_767_304_860),  // 2026-01-01T22:01:00Z
            ("2025-12-31T22:01:00+00:00", 1_767_218_460),
            ("2024-02-29T00:00:00Z", 1_709_164_800),
            ("2000-02-29T00:00:00Z", 951_782_400),
            ("1969-12-31T23:59:59Z", -1),
            ("1582-10-04T00:00:00Z", -12_220_243_200),  // proleptic Gregorian (Foundation: Julian)
            ("1582-10-15T00:00:00Z", -12_219_292_800),
            ("0001-01-01T00:00:00Z", -62_135_596_800),
            ("0000-01-01T00:00:00Z", -62_167_219_200),
            ("2016-12-31T23:59:60Z", 1_483_228_800),  // a leap second reads as the instant after it
            ("2016-12-31T23:59:60.5Z", 1_483_228_800.5),
            ("2017-01-01T00:59:60+01:00", 1_483_228_800),  // 23:59:60 UTC
        ])
    func valid(_ text: String, _ seconds: Double) throws {
        #expect(try RFC3339.parse(text) == Date(timeIntervalSince1970: seconds))
    }

    @Test(
        "anything else is refused, naming the column of the first wrong byte",
        arguments: [
            // Fuzzing (issue 17): 35 fraction digits made Foundation's formatter die with SIGFPE in ICU.
            ("2026-01-01T00:00:00.11111111111111111111111111111111111Z", 30),
            // 10 to 34 digits read as another instant (…00.12345678901Z as 1767225599.995).
            ("2026-01-01T00:00:00.12345678901Z", 30),
            ("2026-01-01T00:00:00.1234567890Z", 30),
            ("2026-01-01T00:00:00Zjunk", 21),  // trailing text was ignored
            ("2026-01-01T00:00:00+02:006", 26),  // read as +02:00
            ("2026-01-01T00:00:00+02:E00", 24),  // one source accepted it, the other refused it
            ("2026-02-31T00:00:00Z", 9),  // rolled over to 2026-03-03
            ("2026-04-31T00:00:00Z", 9),
            ("1900-02-29T00:00:00Z", 9),
            ("2026-01-00T00:00:00Z", 9),
            ("2026-13-01T00:00:00Z", 6),
            ("2026-00-01T00:00:00Z", 6),
            ("2026-01-01T24:00:00Z", 12),
            ("2026-01-01T00:60:00Z", 15),
            ("2026-01-01T00:00:61Z", 18),
            ("2016-12-30T23:59:60Z", 18),  // not the last day of a month
            ("2016-12-31T23:58:60Z", 18),
            ("2026-01-01T00:00:00+24:00", 21),
            ("2026-01-01T00:00:00+02:60", 24),
            ("2026-01-01T00:00:00+0200", 23),
            ("2026-01-01T00:00:00+02", 23),
            ("2026-01-01T00:00:00", 20),
            ("2026-01-01T00:00:00.Z", 21),
            ("2026-01-01T00:00Z", 17),
            ("2026-01-01 00:00:00Z", 11),
            ("2026-01-01", 11),
            ("20260101T000000Z", 5),
            ("+2026-01-01T00:00:00Z", 1),
            (" 2026-01-01T00:00:00Z", 1),
            ("2026-01-01T00:00:00Z\n", 21),
            ("２０２６-01-01T00:00:00Z", 1),
            ("2026-1-01T00:00:00Z", 7),
            ("", 1),
        ])
    func invalid(_ text: String, _ column: Int) {
        do {
            let date = try RFC3339.parse(text)
            Issue.record("\(text.debugDescription) read as \(date.timeIntervalSince1970)")
        } catch {
            #expect(error.column == column, "\(text.debugDescription): \(error)")
        }
    }

    @Test("nine fraction digits read exactly, in whole seconds and nanoseconds")
    func components() throws {
        var text = "2026-01-01T00:00:00.123456789+02:00"
        let parts = try text.withUTF8 { bytes in Result { () throws(RFC3339.ParseError) in try RFC3339.components(bytes) } }.get()
        #expect(parts.seconds == 1_767_218_400)
        #expect(parts.nanoseconds == 123_456_789)
    }

    @Test("writing then reading gives the instant back, and the text back for whole milliseconds")
    func writeThenRead() throws {
        for seconds in [0.0, 1_767_225_600.125, -62_167_219_200, 253_402_300_799, 951_782_400.5] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = try #require(RFC3339.string(date, fractionDigits: 3))
            #expect(try RFC3339.parse(text) == date)
            #expect(RFC3339.string(try RFC3339.parse(text), fractionDigits: 3) == text)
        }
    }
}
