import ExportCore
import Foundation

/// Checks that a `MembershipSource` pages by keyset, within its limit, and only over one owner's rows.
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
    let change: (@Sendable (_ inserted: [Membership], _ deleted: [Membership]) async throws -> Void)?

    /// Creates the suite.
    ///
    /// - Parameters:
    ///   - change: Inserts and deletes rows in the source made last, while a scan is under way; when
    ///     given, the suite checks that such changes never make a scan skip or repeat a row.
    ///   - makeSource: Makes a source serving exactly the given memberships.
    public init(
        change: (@Sendable (_ inserted: [Membership], _ deleted: [Membership]) async throws -> Void)? = nil,
        makeSource: @escaping @Sendable ([Membership]) async throws -> any MembershipSource
    ) {
        self.change = change
        self.makeSource = makeSource
    }

    /// Runs every case.
    ///
    /// - Throws: ``ConformanceFailure`` at the first broken requirement, or the source's own error when
    ///   it fails where it should not.
    public func run() async throws {
        try await runCase("MembershipSource", "paging yields each row once, in a stable order", fullScan)
        try await runCase("MembershipSource", "an owner without rows gets an empty page", emptyOwner)
        if change != nil {
            try await runCase("MembershipSource", "changes during a scan skip or repeat nothing", changesDuringScan)
        }
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

    private func changesDuringScan() async throws {
        guard let change else { return }
        let (rows, owners) = Self.dataSet(token: runToken())
        let source = try await makeSource(rows)
        let owner = try require(owners.first { $0.value > 10 }?.key, "the data set has no large owner")
        let first = try await source.memberships(of: owner, after: nil, limit: 5)
        let returned = Set(first.items.map(\.membershipID))
        let remaining = rows.filter { $0.userID == owner && !returned.contains($0.membershipID) }
        var early = first.items[0]
        early.membershipID = "0-\(early.membershipID)"
        var late = first.items[0]
        late.membershipID = "z-\(late.membershipID)"
        // After the first page: a row inserted at the start of the id range and one not yet returned deleted.
        // After the second: a row already returned deleted and one inserted at the end.
        let deleted = [remaining[remaining.count / 2], first.items[1]]
        let changes: [(inserted: [Membership], deleted: [Membership])] = [([early], [deleted[0]]), ([late], [deleted[1]])]

        var seen = first.items.map(\.membershipID)
        var next = first.next
        var pages = 0
        while let position = next {
            if pages < changes.count { try await change(changes[pages].inserted, changes[pages].deleted) }
            let page = try await source.memberships(of: owner, after: position, limit: 5)
            seen += page.items.map(\.membershipID)
            next = page.next
            pages += 1
            try check(pages <= rows.count, "the scan does not end after rows changed")
        }
        try check(pages >= changes.count, "the scan ended before the rows could be changed")
        try check(Set(seen).count == seen.count, "a row was returned twice by a scan during which rows changed")
        let mustSee = Set(rows.filter { $0.userID == owner }.map(\.membershipID)).subtracting(deleted.map(\.membershipID))
        let missed = mustSee.subtracting(seen)
        try check(missed.isEmpty, "rows present throughout the scan were skipped: \(missed.sorted())")
    }
}
