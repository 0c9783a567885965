import ExportCore
import Foundation

/// A deterministic, generated data set: the same seed gives the same rows in every process, computed
/// on the fly (constant memory), so workers in several processes export identical files.
struct SyntheticMembershipSource: MembershipSource {
    let seed: UInt64
    let users: Int
    let minimumRows: Int
    let maximumRows: Int

    /// The user ids of the data set: `user-0001`, `user-0002`, …
    var owners: [UserID] { (1...max(1, users)).map { UserID("user-" + Self.padded($0, width: 4)) } }

    /// Whether `owner` is one of ``owners``, by reading its number (building the list per call made
    /// every page cost time in proportion to the user count).
    func isOwner(_ owner: UserID) -> Bool {
        let text = owner.rawValue
        guard text.hasPrefix("user-"), let number = Int(text.dropFirst(5)), (1...max(1, users)).contains(number) else { return false }
        return text == "user-" + Self.padded(number, width: 4)
    }

    /// How many memberships a user has (between the minimum and maximum, fixed by the seed).
    func rowCount(of owner: UserID) -> Int {
        guard isOwner(owner) else { return 0 }
        var random = SplitMix64(seed: seed ^ Self.hash(owner.rawValue))
        return minimumRows + Int(random.next() % UInt64(max(1, maximumRows - minimumRows + 1)))
    }

    /// `n` in decimal, zero-padded to `width` digits (as `String(format: "%0*d")`, without its
    /// format parsing, which was most of this source's time).
    static func padded(_ n: Int, width: Int) -> String {
        let digits = String(n)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        try await memberships(of: owner, after: cursor, limit: limit, range: nil)
    }

    /// A page of the rows active within `range`: the page scans `limit` generated rows and keeps those
    /// in the range, so a page may hold fewer (or none) and still have a next cursor.
    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int, range: ExportTimeRange?) async throws -> Page<Membership> {
        let count = rowCount(of: owner)
        var start = 0
        if let cursor {
            guard let last = Int(cursor.token.dropFirst(2)), cursor.token.hasPrefix("m-") else {
                throw ExportError(.invalidRequest, "not a cursor of this source: \(cursor.token.prefix(40))")
            }
            start = last + 1
        }
        let end = min(count, start + max(1, limit))
        let ownerHash = Self.hash(owner.rawValue)
        let next = end < count ? PageCursor("m-" + Self.padded(end - 1, width: 7)) : nil
        var rows = start < end ? (start..<end).map { row(owner, ownerHash, $0) } : []
        if let range { rows.removeAll { !range.contains($0) } }
        return Page(items: rows, next: next)
    }

    private static let plans = ["free", "pro", "team", "enterprise"]
    private static let roles = ["member", "admin", "owner", "billing", "guest"]
    private static let statuses = ["active", "active", "active", "cancelled", "past_due"]
    private static let names = ["Acme, Inc.", "Globex", "Initech", "Umbrella \"Labs\"", "=cmd|' /C calc'!A0", "Société Générale", "北京 Tech", "Hooli"]

    private func row(_ owner: UserID, _ ownerHash: UInt64, _ index: Int) -> Membership {
        var random = SplitMix64(seed: seed ^ ownerHash ^ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        let organization = Int(random.next() % 5000)
        let started = Date(timeIntervalSince1970: 1_500_000_000 + Double(random.next() % 250_000_000))
        let ended = random.next() % 4 == 0 ? started.addingTimeInterval(Double(random.next() % 50_000_000)) : nil
        let amount = random.next() % 3 == 0 ? nil : ExactDecimal(units: Int64(random.next() % 100_000), scale: 2)
        return Membership(
            membershipID: "m-" + Self.padded(index, width: 7), userID: owner, organizationID: "org-\(organization)",
            organizationName: Self.names[organization % Self.names.count], plan: Self.plans[Int(random.next() % 4)],
            role: Self.roles[Int(random.next() % 5)], status: Self.statuses[Int(random.next() % 5)], startedAt: started,
            endedAt: ended, renewsAt: ended == nil ? started.addingTimeInterval(31_536_000) : nil, amount: amount,
            currency: amount == nil ? nil : "EUR", attributes: ["seat_count": String(random.next() % 50 + 1)])
    }

    /// FNV-1a, stable across processes (unlike `Hasher`).
    static func hash(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}

/// SplitMix64: a tiny, seedable generator.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
