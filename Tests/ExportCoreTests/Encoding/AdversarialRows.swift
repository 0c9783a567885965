import ExportCore
import Foundation

/// A seeded generator of rows that are hard to encode: every Unicode plane, lone and doubled quotes,
/// CR, LF and CRLF inside values, delimiters, leading and trailing spaces, formula triggers, empty
/// text versus missing values, and (optionally) fields of 1 MiB and more.
struct AdversarialRows {
    /// Every standard column plus two attribute columns, one of them with an awkward name.
    static let columns: [ExportColumn] = ExportColumn.standard + [.attribute("note"), .attribute("-odd, \"name\"\n")]

    private var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// `count` rows; when `hugeFields` is set, two of them carry a field of at least 1 MiB.
    mutating func rows(_ count: Int, hugeFields: Bool = false) -> [Membership] {
        var rows: [Membership] = []
        for index in 0..<count {
            var row = Membership(
                membershipID: text(), userID: UserID(text()), organizationID: text(), organizationName: text(),
                plan: text(), role: text(), status: text(), startedAt: date(),
                endedAt: chance(3) ? nil : date(), renewsAt: chance(3) ? nil : date(),
                amount: chance(4) ? nil : decimal(), currency: chance(4) ? nil : text(),
                attributes: [:])
            if !chance(4) { row.attributes["note"] = text() }
            if !chance(4) { row.attributes["-odd, \"name\"\n"] = text() }
            row.attributes["not exported"] = "x"
            if hugeFields && index == 1 { row.organizationName = huge(bytes: 1 << 20) }
            if hugeFields && index == count - 1 { row.attributes["note"] = huge(bytes: (1 << 20) + 12345) }
            rows.append(row)
        }
        return rows
    }

    private mutating func chance(_ oneIn: UInt64) -> Bool { random.next() % oneIn == 0 }

    private mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }

    /// Years 0001…9999, to the millisecond, both sides of 1970 (Python's datetime starts at year 1).
    private mutating func date() -> Date {
        let low: Int64 = -62_135_596_800_000  // 0001-01-01
        let high: Int64 = 253_402_300_799_999  // 9999-12-31T23:59:59.999
        var milliseconds = low + Int64(random.next() % UInt64(high - low + 1))
        if chance(3) { milliseconds -= milliseconds % 1000 }  // whole seconds, printed without .mmm
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    private mutating func decimal() -> ExactDecimal {
        let scale = UInt8(below(19))
        let units: Int64
        switch below(4) {
        case 0: units = [Int64.min, Int64.max, 0, -1, 1][below(5)]
        default: units = Int64(bitPattern: random.next()) >> UInt64(below(63))
        }
        return ExactDecimal(units: units, scale: scale)
    }

    private static let pieces = [
        "\"", "\"\"", ",", ";", "\t", "|", "\r", "\n", "\r\n", " ", "  ", "=", "+", "-", "@", "'", "\\", "=1+2",
        "-5", "@SUM(A1)", "\u{2028}", "\u{2029}", "\u{FEFF}", "e\u{301}", "\u{7F}", "\u{1}", "\u{1F}",
    ]

    /// Text assembled from awkward pieces, plain words and random scalars from every plane.
    private mutating func text() -> String {
        switch below(12) {
        case 0: return ""
        case 1: return String(Self.pieces[below(Self.pieces.count)])
        case 2: return " " + word() + " "
        default: break
        }
        var result = ""
        for _ in 0..<(1 + below(6)) {
            switch below(4) {
            case 0: result += Self.pieces[below(Self.pieces.count)]
            case 1: result += word()
            default:
                for _ in 0..<(1 + below(4)) { result.unicodeScalars.append(scalar()) }
            }
        }
        return result
    }

    private mutating func word() -> String {
        ["Ada", "Zoë", "Ødegård", "Иван", "佐藤", "أحمد", "🦊", "O'Brien", "x"][below(9)]
    }

    /// A random scalar from any of the 17 planes; never a surrogate (they are not scalars) nor NUL.
    private mutating func scalar() -> Unicode.Scalar {
        while true {
            let plane = UInt32(below(17))
            let value = plane << 16 | UInt32(below(0x10000))
            if value != 0, let scalar = Unicode.Scalar(value) { return scalar }
        }
    }

    private mutating func huge(bytes: Int) -> String {
        var result = "\"huge\", \r\n"
        while result.utf8.count < bytes {
            result += "Zoë \"quoted\",\r\n\u{1F98A} 𝄞 "
        }
        return result
    }
}

/// Steele, Lea and Flood's SplitMix64, for reproducible tests.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
