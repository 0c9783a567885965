import ExportCore
import Foundation

/// Checks that a ``MembershipSource`` pages by keyset, within its limit, and only over one owner's rows.
///
/// `makeSource` receives the data set to serve (several owners' memberships, with whole-second dates)
/// and returns a source over exactly those rows: for a database adapter, insert them into a fresh
/// schema; for an API adapter, serve them from a stub.
///
/// ```swift
/// try await MembershipSourceConformance { rows in InMemoryMembershipSource(rows) }.run()
/// ```
public struct MembershipSourceConformance: Sendable {
    let makeSource: @Sendable ([Membership]) async throws -> any MembershipSource

    /// Creates the suite.
    ///
    /// - Parameters:
    ///   - makeSource: Makes a source serving exactly the given memberships.
    public init(makeSource: @escaping @Sendable ([Membership]) async throws -> any MembershipSource) {
        self.makeSource = makeSource
    }

    /// Runs every case.
    ///
    /// - Throws: ``ConformanceFailure`` at the first broken requirement, or the source's own error when
    ///   it fails where it should not.
    public func run() async throws {
        try await runCase("MembershipSource", "paging yields each row once, in a stable order", fullScan)
        try await runCase("MembershipSource", "an owner without rows gets an empty page", emptyOwner)
    }

    static func dataSet(token: String) -> (rows: [Membership], owners: [UserID: Int]) {
        let counts: [(UserID, Int)] = [
            (UserID("alice-\(token)"), 23), (UserID("bob-\(token)"), 7), (UserID("carol-\(token)"), 1),
        ]
        var rows: [Membership] = []
        var index = 0
        for (owner, count) in counts {
            for row in 0..<count {
                index += 1
                // Ids are shuffled relative to insertion order, and owners' ids interleave.
                let number = (index * 7919) % 1000
                rows.append(
                    Membership(
                        membershipID: "m-\(token)-\(number)-\(index)",
                        userID: owner,
                        organizationID: "org-\(row % 3)",
                        organizationName: "Organization \(row % 3)",
                        plan: row % 2 == 0 ? "pro" : "free",
                        role: "member",
                        status: "active",
                        startedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(row) * 86_400),
                        amount: ExactDecimal(units: Int64(row) * 100 + 99, scale: 2),
                        currency: "EUR"
                    )
                )
            }
        }
        return (rows.reversed(), Dictionary(uniqueKeysWithValues: counts))
    }

    private func scan(_ source: any MembershipSource, owner: UserID, limit: Int, total: Int) async throws -> [Membership] {
        var rows: [Membership] = []
        var cursor: PageCursor?
        var pages = 0
        repeat {
            let page = try await source.memberships(of: owner, after: cursor, limit: limit)
            pages += 1
            try check(page.items.count <= limit, "a page held \(page.items.count) rows with limit \(limit)")
            try check(page.next == nil || !page.items.isEmpty, "an empty page had a next cursor")
            try check(page.items.allSatisfy { $0.userID == owner }, "a page of \(owner) held another user's row")
            rows += page.items
            cursor = page.next
            try check(pages <= total + 1, "paging \(owner) with limit \(limit) does not end")
        } while cursor != nil
        return rows
    }

    private func fullScan() async throws {
        let (rows, owners) = Self.dataSet(token: runToken())
        let source = try await makeSource(rows)
        for (owner, count) in owners {
            let expected = Set(rows.filter { $0.userID == owner }.map(\.membershipID))
            var reference: [String]?
            for limit in [1, 2, 5, count, count + 1, 1000] {
                let scanned = try await scan(source, owner: owner, limit: limit, total: count)
                let ids = scanned.map(\.membershipID)
                try check(Set(ids).count == ids.count, "paging \(owner) with limit \(limit) repeated a row")
                try check(Set(ids) == expected, "paging \(owner) with limit \(limit) returned \(ids.count) of \(count) rows")
                let seeded = Dictionary(uniqueKeysWithValues: rows.map { ($0.membershipID, $0) })
                for row in scanned {
                    try check(seeded[row.membershipID] == row, "row \(row.membershipID) came back altered: \(row)")
                }
                if let reference {
                    try check(ids == reference, "paging \(owner) with limit \(limit) gave another order than limit 1")
                } else {
                    reference = ids
                }
                if limit >= count {
                    let first = try await source.memberships(of: owner, after: nil, limit: limit)
                    try check(first.items.count == count, "a page of limit \(limit) held \(first.items.count) of \(count) rows")
                    try check(first.next == nil, "the last page (all \(count) rows, limit \(limit)) must have no next cursor")
                }
            }
        }
    }

    private func emptyOwner() async throws {
        let (rows, _) = Self.dataSet(token: runToken())
        let source = try await makeSource(rows)
        let page = try await source.memberships(of: UserID("nobody-\(runToken())"), after: nil, limit: 10)
        try check(page.items.isEmpty, "an owner without memberships got \(page.items.count) rows")
        try check(page.next == nil, "an owner without memberships got a next cursor")
    }
}
