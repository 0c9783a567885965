import ExportCore
import Foundation

/// The deterministic benchmark workload: rows are produced on the fly from the row number (no row is
/// kept), so producing them is part of what is measured and memory does not grow with the row count.
///
/// 10 columns: numeric text ids (membership, user, organization: digit strings in text cells, as
/// `Membership` holds them), Unicode given and family names (about 2%
/// of them containing a comma, a quote, LF or CRLF), status, ISO dates (started; ended, empty for about
/// 20%), a decimal amount and a currency.
struct Workload {
    static let columns: [ExportColumn] = [
        .membershipID, .userID, .organizationID, .attribute("given_name"), .attribute("family_name"),
        .status, .startedAt, .endedAt, .amount, .currency,
    ]

    static let givenNames = [
        "Ada", "Grace", "Alan", "Zoë", "José", "Björn", "Søren", "Łukasz", "Ümit", "Chloé", "Noël", "Renée",
        "Dmitri", "Анна", "Иван", "Ελένη", "Νίκος", "أحمد", "فاطمة", "דוד", "שרה", "राज", "प्रिया", "美咲",
        "翔太", "서연", "민준", "Nguyễn", "Thảo", "Ngozi", "Chidi", "Aroha", "Siobhán", "Eoghan", "Ignacio",
        "María José", "Jean-Luc", "O'Brien", "Ayşe", "Mehmet", "Kalani", "Mateus", "João", "Zhang Wei",
        "Olumide", "Åsa", "Þór", "Ægir", "Ingrid", "Émilie", "Dvořák", "Władysław", "Fiadh", "Ñuño",
        "Gülşen", "Kateřina", "Ľubomír", "Ōta", "Tūī", "Ana", "Li", "Bo", "Yara", "🦊 Fox",
    ]

    static let familyNames = [
        "Lovelace", "Hopper", "Turing", "Müller", "García", "Ødegård", "Kowalski", "Öztürk", "Dubois", "Lefèvre",
        "Иванова", "Смирнов", "Παπαδόπουλος", "الحسن", "כהן", "शर्मा", "佐藤", "鈴木", "김", "이",
        "Trần", "Okafor", "Ngata", "Ó Súilleabháin", "Núñez", "van der Berg", "de la Cruz", "Østergaard",
        "Fernández", "Nakamura", "Wójcik", "Černý", "Szabó", "Grønlund", "Çelik", "Schröder", "Ångström",
        "Mac Giolla Bhríde", "Abara", "Kealoha", "Silva", "Santos", "王", "李", "Jürgens", "Ferreira", "Lindqvist",
        "Horváth", "Nowak", "Popescu", "Rossi", "Bianchi", "Kovačević", "Petrović", "Young", "Smith", "Ndlovu",
        "Mbeki", "Al-Farsi", "Haddad", "Takahashi", "Yamamoto", "Park", "Chen",
    ]

    /// Names that force quoting: a comma, a quote, LF or CRLF inside.
    static let awkwardNames = [
        "Smith, Jr.", "O\"Neil", "Line\nBreak", "Carriage\r\nReturn", "\"Quoted\"", "Doe, Jane", "Two\nLines\nHere",
        "Ünïcödé, \"quoted\"",
    ]

    static let statuses = ["active", "active", "active", "cancelled", "past_due", "trialing"]
    static let currencies = ["EUR", "USD", "GBP", "JPY", "CHF"]

    /// The pools rows are assembled from, built once per process. Held in unsafe buffers so that
    /// producing a row does not retain and release array buffers (only what the row itself keeps).
    final class Pools: @unchecked Sendable {
        let attributes: UnsafeMutableBufferPointer<[String: String]>
        let organizations: UnsafeMutableBufferPointer<String>
        let users: UnsafeMutableBufferPointer<UserID>
        let statuses: UnsafeMutableBufferPointer<String>
        let currencies: UnsafeMutableBufferPointer<String>

        init() {
            var random = SplitMix64(seed: 0x5EED)
            var pool: [[String: String]] = []
            for _ in 0..<4096 {
                // About 2% of the rows have an awkward name: each of the two names is awkward 1% of the time.
                let given = random.next() % 100 == 0
                    ? awkwardNames[Int(random.next() % UInt64(awkwardNames.count))]
                    : givenNames[Int(random.next() % UInt64(givenNames.count))]
                let family = random.next() % 100 == 0
                    ? awkwardNames[Int(random.next() % UInt64(awkwardNames.count))]
                    : familyNames[Int(random.next() % UInt64(familyNames.count))]
                pool.append(["given_name": given, "family_name": family])
            }
            attributes = Self.buffer(pool)
            organizations = Self.buffer((0..<512).map { String(100_000 + $0 * 37) })
            users = Self.buffer((0..<8192).map { UserID(String(5_000_000 + $0 * 7919)) })
            statuses = Self.buffer(Workload.statuses)
            currencies = Self.buffer(Workload.currencies)
        }

        private static func buffer<Element>(_ elements: [Element]) -> UnsafeMutableBufferPointer<Element> {
            let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: elements.count)
            _ = buffer.initialize(from: elements)
            return buffer
        }
    }

    static let sharedPools = Pools()

    private let pools: Pools
    /// The row last produced by ``produce(_:)``; reused, so producing a row copies no `Membership`.
    private(set) var row: Membership

    init() {
        pools = Self.sharedPools
        row = Membership(
            membershipID: "", userID: "", organizationID: "", organizationName: "Example Org", plan: "pro",
            role: "member", status: "active", startedAt: Date(timeIntervalSince1970: 0))
    }

    /// `String(number)` for non-negative numbers, without the generic formatting machinery.
    static func decimalString(_ number: Int) -> String {
        var digits = 1
        var probe = number
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        return String(unsafeUninitializedCapacity: digits) { buffer in
            var value = number
            for index in stride(from: digits - 1, through: 0, by: -1) {
                buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            return digits
        }
    }

    /// Makes ``row`` the row with this number, computed from the number alone, overwriting the
    /// fields in place (the same values as ``membership(_:owner:)``).
    mutating func produce(_ number: Int) {
        var random = SplitMix64(seed: UInt64(truncatingIfNeeded: number) &* 0x9E37_79B9_7F4A_7C15)
        let a = random.next()
        let b = random.next()
        row.membershipID = Self.decimalString(number)
        row.userID = pools.users[Int(a & 8191)]
        row.organizationID = pools.organizations[Int((a >> 13) & 511)]
        row.attributes = pools.attributes[Int((a >> 22) & 4095)]
        row.status = pools.statuses[Int((a >> 34) % UInt64(pools.statuses.count))]
        // Started between 2015 and 2025, on the second; a quarter with milliseconds.
        let started = 1_420_070_400 + Double(b % 315_360_000) + ((b >> 40) % 4 == 0 ? Double((b >> 42) % 1000) / 1000 : 0)
        row.startedAt = Date(timeIntervalSince1970: started)
        row.endedAt = (a >> 40) % 10 < 8 ? Date(timeIntervalSince1970: started + Double((b >> 20) % 63_072_000)) : nil
        row.amount = ExactDecimal(units: Int64((a >> 44) % 500_000), scale: 2)
        row.currency = pools.currencies[Int((b >> 50) % UInt64(pools.currencies.count))]
    }

    /// The row with this number, computed from the number alone, built whole (as a source that
    /// materialises rows builds them): one retain per field, released when the row is dropped.
    ///
    /// - Parameters:
    ///   - number: The row number.
    ///   - owner: The `user_id` of the row; by default one of 8,192 pooled users, picked by the number.
    func membership(_ number: Int, owner: UserID? = nil) -> Membership {
        var random = SplitMix64(seed: UInt64(truncatingIfNeeded: number) &* 0x9E37_79B9_7F4A_7C15)
        let a = random.next()
        let b = random.next()
        // Started between 2015 and 2025, on the second; a quarter with milliseconds.
        let started = 1_420_070_400 + Double(b % 315_360_000) + ((b >> 40) % 4 == 0 ? Double((b >> 42) % 1000) / 1000 : 0)
        return Membership(
            membershipID: Self.decimalString(number), userID: owner ?? pools.users[Int(a & 8191)],
            organizationID: pools.organizations[Int((a >> 13) & 511)], organizationName: "Example Org", plan: "pro",
            role: "member", status: pools.statuses[Int((a >> 34) % UInt64(pools.statuses.count))],
            startedAt: Date(timeIntervalSince1970: started),
            endedAt: (a >> 40) % 10 < 8 ? Date(timeIntervalSince1970: started + Double((b >> 20) % 63_072_000)) : nil,
            amount: ExactDecimal(units: Int64((a >> 44) % 500_000), scale: 2),
            currency: pools.currencies[Int((b >> 50) % UInt64(pools.currencies.count))],
            attributes: pools.attributes[Int((a >> 22) & 4095)])
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64).
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
