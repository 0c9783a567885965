import ExportCore
import Foundation

/// Generated memberships for the signed-in demo users, the stand-in for the host's own database.
///
/// Every user has the same number of rows, computed on the fly from the user id (constant memory, the
/// same file in every process). `pageDelay` paces the export so its progress can be watched; users
/// in `brokenUsers` fail with a permanent error, so the page can show a failure's reason.
struct DemoMembershipSource: MembershipSource {
    let rowsPerUser: Int
    let pageDelay: Duration
    let brokenUsers: Set<String>

    /// The host attributes a request may ask for besides the standard columns.
    static let attributeNames = ["seat_count", "cost_center"]

    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        if pageDelay > .zero { try await Task.sleep(for: pageDelay) }
        if brokenUsers.contains(owner.rawValue) {
            throw ExportError(.corruptData, "membership table row for \(owner.rawValue) fails its integrity check (demo --broken-users)")
        }
        var start = 0
        if let cursor {
            guard cursor.token.hasPrefix("m-"), let last = Int(cursor.token.dropFirst(2)) else {
                throw ExportError(.invalidRequest, "not a cursor of this source: \(cursor.token.prefix(40))")
            }
            start = last + 1
        }
        let end = min(rowsPerUser, start + max(1, limit))
        let rows = start < end ? (start..<end).map { row(owner, $0) } : []
        return Page(items: rows, next: end < rowsPerUser ? rows.last.map { PageCursor($0.membershipID) } : nil)
    }

    private static let plans = ["free", "pro", "team", "enterprise"]
    private static let roles = ["member", "admin", "owner", "billing", "guest"]
    private static let statuses = ["active", "active", "active", "cancelled", "past_due"]
    private static let names = ["Acme, Inc.", "Globex", "Initech", "Umbrella \"Labs\"", "=cmd|' /C calc'!A0", "Société Générale", "北京 Tech", "Hooli"]

    private func row(_ owner: UserID, _ index: Int) -> Membership {
        var random = SplitMix64(seed: Self.hash(owner.rawValue) ^ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        let organization = Int(random.next() % 5000)
        let started = Date(timeIntervalSince1970: 1_500_000_000 + Double(random.next() % 250_000_000))
        let ended = random.next() % 4 == 0 ? started.addingTimeInterval(Double(random.next() % 50_000_000)) : nil
        let amount = random.next() % 3 == 0 ? nil : ExactDecimal(units: Int64(random.next() % 100_000), scale: 2)
        return Membership(
            membershipID: String(format: "m-%07d", index), userID: owner, organizationID: "org-\(organization)",
            organizationName: Self.names[organization % Self.names.count], plan: Self.plans[Int(random.next() % 4)],
            role: Self.roles[Int(random.next() % 5)], status: Self.statuses[Int(random.next() % 5)], startedAt: started,
            endedAt: ended, renewsAt: ended == nil ? started.addingTimeInterval(31_536_000) : nil, amount: amount,
            currency: amount == nil ? nil : "EUR",
            attributes: ["seat_count": String(random.next() % 50 + 1), "cost_center": "CC-\(random.next() % 90 + 10)"])
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
