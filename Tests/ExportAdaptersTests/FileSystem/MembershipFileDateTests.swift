import ExportAdapters
import ExportCore
import Foundation
import Testing

/// Dates in membership files and in the HTTP source's pages: one strict RFC 3339 reader (issue 17).
@Suite("Membership file dates")
struct MembershipFileDateTests {
    static let header = "membership_id,user_id,organization_id,organization_name,plan,role,status,started_at\n"
    /// `started_at` starts at this byte of a data line.
    static let dateColumn = "m1,u1,o,O,p,r,s,".utf8.count + 1

    static func csvStartedAt(_ field: String) async throws -> Date? {
        let source = try FileMembershipSource(bytes: Array((header + "m1,u1,o,O,p,r,s,\(field)\n").utf8), format: .csv)
        return try await source.memberships(of: "u1", after: nil, limit: 1).items.first?.startedAt
    }

    static func jsonLine(_ startedAt: String) -> String {
        #"{"membershipID":"m1","userID":"u1","organizationID":"o","organizationName":"O","plan":"p","role":"r","status":"s","startedAt":"\#(startedAt)","attributes":{}}"#
    }

    static func jsonlStartedAt(_ text: String) async throws -> Date? {
        let source = try FileMembershipSource(bytes: Array(("\n" + jsonLine(text) + "\n").utf8), format: .jsonLines)
        return try await source.memberships(of: "u1", after: nil, limit: 1).items.first?.startedAt
    }

    static func httpStartedAt(_ text: String) async throws -> Date? {
        let body = #"{"data":[{"id":"m1","user_id":"u1","organization_id":"o","organization_name":"O","plan":"p","role":"r","status":"s","started_at":"\#(text)"}]}"#
        let source = try HTTPMembershipSource(
            configuration: .init(urlTemplate: "https://members.test/users/{owner}/memberships", maxAttempts: 1),
            transport: OnePageTransport(body: Array(body.utf8)))
        return try await source.memberships(of: "u1", after: nil, limit: 10).items.first?.startedAt
    }

    /// The inputs of the fuzzing run, and the column where each stops being a date.
    static let fuzzed: [(text: String, column: Int)] = [
        ("2026-01-01T00:00:00.11111111111111111111111111111111111Z", 30),  // SIGFPE inside ICU
        ("2026-01-01T00:00:00.12345678901Z", 30),  // read as 1767225599.995
        ("2026-01-01T00:00:00Zjunk", 21),
        ("2026-01-01T00:00:00+02:006", 26),
        ("2026-01-01T00:00:00+02:E00", 24),
        ("2026-02-31T00:00:00Z", 9),  // read as 2026-03-03
    ]

    @Test("a bad CSV date is corrupt data naming its line and column", arguments: fuzzed)
    func csvRefuses(_ text: String, _ column: Int) async {
        let error = await expectExportError(.corruptData) { try await Self.csvStartedAt(text) }
        let message = error?.message ?? ""
        #expect(message.hasPrefix("line 2, column \(Self.dateColumn + column - 1): started_at"), "\(message)")
    }

    @Test("a quoted CSV date's column counts from inside the quotes")
    func csvQuoted() async {
        let error = await expectExportError(.corruptData) { try await Self.csvStartedAt("\"2026-01-01T00:00:00Zjunk\"") }
        let message = error?.message ?? ""
        #expect(message.hasPrefix("line 2, column \(Self.dateColumn + 21): started_at"), "\(message)")
    }

    @Test("a bad JSON Lines date is corrupt data naming its line, column and field", arguments: fuzzed)
    func jsonlRefuses(_ text: String, _ column: Int) async {
        let start = Array(Self.jsonLine(text).utf8).firstRange(of: Array(#""startedAt":""#.utf8))!.upperBound + 1
        let error = await expectExportError(.corruptData) { try await Self.jsonlStartedAt(text) }
        let message = error?.message ?? ""
        #expect(message.hasPrefix("line 2, column \(start + column - 1): startedAt"), "\(message)")
    }

    @Test("the HTTP source refuses the same texts, as corrupt data", arguments: fuzzed)
    func httpRefuses(_ text: String, _ column: Int) async {
        await expectExportError(.corruptData) { try await Self.httpStartedAt(text) }
    }

    @Test(
        "the file (CSV and JSON Lines) and HTTP sources read the same text as the same instant",
        arguments: [
            ("2026-01-01T00:00:00+02:00", 1_767_218_400.0),
            ("2026-01-01T00:00:00.123456789Z", 1_767_225_600.123456789),
            ("1582-10-04T00:00:00Z", -12_220_243_200),  // proleptic Gregorian, not Julian
            ("2024-02-29T23:59:59.5-01:30", 1_709_256_599.5),
        ])
    func sourcesAgree(_ text: String, _ seconds: Double) async throws {
        let expected = try RFC3339.parse(text)
        #expect(abs(expected.timeIntervalSince1970 - seconds) < 1e-6)
        #expect(try await Self.csvStartedAt(text) == expected)
        #expect(try await Self.jsonlStartedAt(text) == expected)
        #expect(try await Self.httpStartedAt(text) == expected)
    }
}

/// Answers every request with one JSON page.
struct OnePageTransport: HTTPTransport {
    let body: [UInt8]

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        TransportResponse(status: 200, headers: ["Content-Type": "application/json"], body: body)
    }
}
