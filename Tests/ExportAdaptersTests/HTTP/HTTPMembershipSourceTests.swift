import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("HTTPMembershipSource against the fixture API")
struct HTTPMembershipSourceTests {
    static func source(token: String? = "fixture-token", clock: any ExportClock = RecordingClock()) async throws -> HTTPMembershipSource {
        let peer = try await HostAPIServer.peer()
        var fields = HTTPMembershipSource.FieldMapping()
        fields.attributes = ["seat": "seat.number"]
        return try HTTPMembershipSource(
            configuration: .init(
                urlTemplate: "\(peer.baseURL.absoluteString)/users/{owner}/memberships", bearerToken: token, fields: fields,
                timeout: .seconds(5)
            ),
            clock: clock
        )
    }

    @Test("Pages through the API with the cursor until next is nil, mapping every field")
    func pagination() async throws {
        let source = try await Self.source()
        var rows: [Membership] = []
        var cursor: PageCursor?
        var sizes: [Int] = []
        repeat {
            let page = try await source.memberships(of: UserID(rawValue: "u1"), after: cursor, limit: 3)
            rows += page.items
            sizes.append(page.items.count)
            cursor = page.next
        } while cursor != nil && sizes.count < 10
        #expect(sizes == [3, 3, 1])
        #expect(rows.map(\.membershipID) == (1...7).map { "m0\($0)" })
        let first = try #require(rows.first)
        #expect(first.userID == UserID(rawValue: "u1"))
        #expect(first.organizationName == "Org \"1\", Ltd")
        #expect(first.amount == ExactDecimal("11.99"))
        #expect(first.currency == "EUR")
        #expect(first.role == "admin")
        #expect(first.endedAt == nil)
        #expect(first.startedAt == Date(timeIntervalSince1970: 1_704_101_400))
        #expect(first.attributes == ["seat": "1"])
    }

    @Test("5xx and 429 are retried, honouring Retry-After on the injected clock")
    func retries() async throws {
        let clock = RecordingClock()
        let source = try await Self.source(clock: clock)
        let page = try await source.memberships(of: UserID(rawValue: "flaky"), after: nil, limit: 2)
        #expect(page.items.map(\.membershipID) == ["m01", "m02"])
        #expect(page.items.allSatisfy { $0.userID == UserID(rawValue: "flaky") })
        #expect(clock.sleeps.count == 2)
        #expect(clock.sleeps.first == .milliseconds(500), "exponential backoff after the 503")
        let retryAfter = try #require(clock.sleeps.last)
        #expect(retryAfter > .milliseconds(6900) && retryAfter <= .seconds(7), "the 429's Retry-After: 7")
    }

    @Test("A server that stays down ends in a retryable error after maxAttempts")
    func exhausted() async throws {
        let clock = RecordingClock()
        let source = try await Self.source(clock: clock)
        let error = await #expect(throws: ExportError.self) {
            _ = try await source.memberships(of: UserID(rawValue: "down"), after: nil, limit: 2)
        }
        #expect(error?.code == .unavailable)
        #expect(error?.isRetryable == true)
        #expect(clock.sleeps == [.milliseconds(500), .seconds(1), .seconds(2)])
    }

    @Test("Malformed JSON, 403 and a missing token are permanent typed errors, never retried")
    func permanent() async throws {
        let clock = RecordingClock()
        let source = try await Self.source(clock: clock)
        let garbage = await #expect(throws: ExportError.self) {
            _ = try await source.memberships(of: UserID(rawValue: "garbage"), after: nil, limit: 2)
        }
        #expect(garbage?.code == .corruptData)
        #expect(garbage?.isRetryable == false)
        let forbidden = await #expect(throws: ExportError.self) {
            _ = try await source.memberships(of: UserID(rawValue: "forbidden"), after: nil, limit: 2)
        }
        #expect(forbidden?.code == .permissionDenied)
        let anonymous = try await Self.source(token: nil, clock: clock)
        let unauthorized = await #expect(throws: ExportError.self) {
            _ = try await anonymous.memberships(of: UserID(rawValue: "u1"), after: nil, limit: 2)
        }
        #expect(unauthorized?.code == .unauthorized)
        #expect(unauthorized?.isRetryable == false)
        #expect(clock.sleeps.isEmpty)
    }

    @Test("Unreachable hosts are retryable")
    func unreachable() async throws {
        let clock = RecordingClock()
        let source = try HTTPMembershipSource(
            configuration: .init(urlTemplate: "http://127.0.0.1:9/users/{owner}/memberships", timeout: .seconds(2), maxAttempts: 2),
            clock: clock
        )
        let error = await #expect(throws: ExportError.self) {
            _ = try await source.memberships(of: UserID(rawValue: "u1"), after: nil, limit: 2)
        }
        #expect(error?.isRetryable == true)
        #expect(clock.sleeps.count == 1)
    }
}
