import ExportCore
import Foundation

/// RFC 9110 §5.6.7 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), read by hand: a `Retry-After` header
/// is untrusted text and never reaches Foundation's date formatters. The obsolete RFC 850 and asctime
/// forms are refused (a `Retry-After` the client cannot read is ignored, not guessed).
enum HTTPDate {
    private static let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The instant, or `nil` when `text` is not an IMF-fixdate of a real day whose weekday matches.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 29, bytes[3] == UInt8(ascii: ","), bytes[4] == 0x20, bytes[7] == 0x20, bytes[11] == 0x20,
            bytes[16] == 0x20, bytes[19] == UInt8(ascii: ":"), bytes[22] == UInt8(ascii: ":"), bytes[25] == 0x20,
            bytes[26...28].elementsEqual("GMT".utf8)
        else { return nil }
        func number(_ range: ClosedRange<Int>) -> Int? {
            var value = 0
            for index in range {
                guard (0x30...0x39).contains(bytes[index]) else { return nil }
                value = value * 10 + Int(bytes[index] - 0x30)
            }
            return value
        }
        let weekdayName = String(decoding: bytes[0...2], as: UTF8.self)
        let monthName = String(decoding: bytes[8...10], as: UTF8.self)
        guard let weekday = weekdays.firstIndex(of: weekdayName), let monthIndex = months.firstIndex(of: monthName),
            let day = number(5...6), let year = number(12...15), let hour = number(17...18), let minute = number(20...21),
            let second = number(23...24), hour < 24, minute < 60, second < 61
        else { return nil }
        // The RFC 3339 reader checks the day against the month and the calendar.
        let month = monthIndex + 1
        let iso = "\(year.paddedTo4)-\(month.paddedTo2)-\(day.paddedTo2)T\(hour.paddedTo2):\(minute.paddedTo2):\(second.paddedTo2)Z"
        guard let date = try? RFC3339.parse(iso) else { return nil }
        // 1970-01-01 was a Thursday (index 3).
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        guard ((days % 7) + 7 + 3) % 7 == weekday else { return nil }
        return date
    }
}

extension Int {
    fileprivate var paddedTo2: String { self < 10 ? "0\(self)" : "\(self)" }
    fileprivate var paddedTo4: String { String(repeating: "0", count: Swift.max(0, 4 - String(self).count)) + String(self) }
}
