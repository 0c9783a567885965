import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("FileMembershipSource")
struct FileMembershipSourceTests {
    static let csv = """
        membership_id,user_id,organization_id,organization_name,plan,role,status,started_at,ended_at,renews_at,amount,currency,seat_count\r
        m3,u1,o1,"Acme, Inc.",pro,admin,active,2024-03-01T09:30:00Z,,2025-03-01T09:30:00Z,19.99,EUR,5\r
        m1,u1,o2,"The ""Best"" Org",free,member,cancelled,2023-01-01T00:00:00.250Z,2023-06-01T00:00:00Z,,,,\r
        m2,u2,o1,"Multi
        line",pro,member,active,2024-01-01T00:00:00Z,,,0.5,USD,1\r
        m2,u1,o3,Solo,team,owner,active,2022-01-01T00:00:00Z,,,,,\r

        """

    static func all(_ source: FileMembershipSource, _ owner: UserID, limit: Int) async throws -> [Membership] {
        var rows: [Membership] = []
        var cursor: PageCursor?
        repeat {
            let page = try await source.memberships(of: owner, after: cursor, limit: limit)
            #expect(page.items.count <= limit)
            rows += page.items
            cursor = page.next
        } while cursor != nil
        return rows
    }

    @Test("CSV: quoting, extra columns as attributes, keyset pages per owner")
    func csvFile() async throws {
        let source = try FileMembershipSource(bytes: Array(Self.csv.utf8), format: .csv)
        #expect(source.count == 4)
        #expect(source.owners == ["u1", "u2"])
        let rows = try await Self.all(source, "u1", limit: 2)
        #expect(rows.map(\.membershipID) == ["m1", "m2", "m3"])
        let acme = try #require(rows.last)
        #expect(acme.organizationName == "Acme, Inc.")
        #expect(acme.amount == ExactDecimal("19.99"))
        #expect(acme.currency == "EUR")
        #expect(acme.attributes == ["seat_count": "5"])
        #expect(acme.renewsAt == Date(timeIntervalSince1970: 1_740_821_400))
        #expect(rows[0].organizationName == "The \"Best\" Org")
        #expect(rows[0].startedAt == Date(timeIntervalSince1970: 1_672_531_200.25))
        #expect(rows[0].endedAt != nil && rows[0].amount == nil && rows[0].attributes.isEmpty)
        let other = try await Self.all(source, "u2", limit: 10)
        #expect(other.map(\.organizationName) == ["Multi\nline"])
        #expect(try await source.memberships(of: "nobody", after: nil, limit: 5) == Page(items: [], next: nil))
        // The last page has no cursor, even when it is exactly full.
        let exact = try await source.memberships(of: "u1", after: nil, limit: 3)
        #expect(exact.items.count == 3 && exact.next == nil)
    }

    @Test("JSON Lines of Membership, from a file")
    func jsonLinesFile() async throws {
        let directory = try TestDirectory("members")
        defer { directory.remove() }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let rows = (0..<25).map { index in
            Membership(
                membershipID: String(format: "m%03d", index), userID: UserID("u\(index % 2)"), organizationID: "o\(index)",
                organizationName: "Org \(index)", plan: "pro", role: "member", status: "active",
                startedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(index)), amount: ExactDecimal(units: Int64(index), scale: 2),
                attributes: ["k": "\(index)"])
        }
        let text = try rows.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n\n"
        try directory.write(text, to: "members.jsonl")
        let source = try FileMembershipSource(fileURL: directory.url.appendingPathComponent("members.jsonl"))
        #expect(try await Self.all(source, "u0", limit: 4) == rows.filter { $0.userID == "u0" })
        #expect(try await Self.all(source, "u1", limit: 100) == rows.filter { $0.userID == "u1" })
    }

    static let header =
        "membership_id,user_id,organization_id,organization_name,plan,role,status,started_at,ended_at,renews_at,amount,currency,seat_count"
    static let malformedCases: [(String, String, String)] = [
        ("membership_id,user_id\nm1,u1\n", "line 1", "invalidRequest"),
        (header + "\nm1,u1,o1,O,p,r,s,2024-01-01T00:00:00Z\n", "line 2", "corruptData"),
        (header + "\nm1,u1,o1,O,p,r,s,yesterday,,,,,\n", "line 2", "corruptData"),
        (header + "\nm1,u1,o1,O,p,r,s,2024-01-01T00:00:00Z,,,12abc,,\n", "line 2", "corruptData"),
        (header + "\nm1,u1,o1,\"unterminated,p,r,s,2024-01-01T00:00:00Z,,,,,\n", "line 2", "corruptData"),
        (header + "\nm1,u1,o1,O,p,r,s,2024-01-01T00:00:00Z,,,,,\nm1,u1,o1,O,p,r,s,2024-01-01T00:00:00Z,,,,,\n", "line 3", "invalidRequest"),
        ("", "line 1", "invalidRequest"),
    ]

    @Test("malformed input names the line", arguments: malformedCases)
    func malformedCSV(text: String, line: String, code: String) throws {
        do {
            _ = try FileMembershipSource(bytes: Array(text.utf8), format: .csv)
            Issue.record("expected an error")
        } catch {
            #expect(error.code.description == code, "\(error)")
            #expect(error.message.contains(line), "\(error.message)")
            #expect(!error.isRetryable)
        }
    }

    @Test("malformed JSON Lines name the line")
    func malformedJSONLines() throws {
        do {
            _ = try FileMembershipSource(bytes: Array("\n{\"nope\": 1}\n".utf8), format: .jsonLines)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .corruptData)
            #expect(error.message.contains("line 2"))
        }
    }
}
