import ExportAdapters
import ExportConformance
import ExportCore
import Foundation
import Synchronization
import Testing

/// The public MembershipSource suite against `HTTPMembershipSource`, with the fixture server serving
/// each data set the suite asks for (and changing it mid-scan).
@Suite("HTTPMembershipSource passes the conformance suite")
struct HTTPMembershipSourceConformanceTests {
    static func row(_ membership: Membership) -> JSONValue {
        var row: [String: JSONValue] = [
            "id": .string(membership.membershipID), "user_id": .string(membership.userID.rawValue),
            "organization_id": .string(membership.organizationID), "organization_name": .string(membership.organizationName),
            "plan": .string(membership.plan), "role": .string(membership.role), "status": .string(membership.status),
            "started_at": .number(membership.startedAt.timeIntervalSince1970),
        ]
        if let date = membership.endedAt { row["ended_at"] = .number(date.timeIntervalSince1970) }
        if let date = membership.renewsAt { row["renews_at"] = .number(date.timeIntervalSince1970) }
        if let amount = membership.amount { row["amount"] = .string(amount.description) }
        if let currency = membership.currency { row["currency"] = .string(currency) }
        return .object(row)
    }

    static func post(_ peer: PeerProcess, _ path: String, _ body: JSONValue) async throws {
        var request = TransportRequest(method: "POST", url: peer.baseURL.appendingPathComponent(path), body: body.serialized())
        request.setHeader("Content-Type", "application/json")
        let response = try await URLSessionTransport().send(request)
        guard response.isSuccess else { throw PeerUnavailable(message: "fixture refused \(path): \(response.status)") }
    }

    @Test func conforms() async throws {
        let peer = try await HostAPIServer.peer()
        let latest = Mutex<String?>(nil)
        try await MembershipSourceConformance(
            change: { inserted, deleted in
                guard let name = latest.withLock({ $0 }) else { return }
                try await Self.post(peer, "datasets/\(name)/change", [
                    "insert": .array(inserted.map(Self.row)), "delete": .array(deleted.map { .string($0.membershipID) }),
                ])
            },
            makeSource: { rows in
                let name = MotoServer.uniqueName("set")
                try await Self.post(peer, "datasets/\(name)", .array(rows.map(Self.row)))
                latest.withLock { $0 = name }
                return try HTTPMembershipSource(configuration: .init(
                    urlTemplate: "\(peer.baseURL.absoluteString)/datasets/\(name)/users/{owner}/memberships"
                ))
            }
        ).run()
        // The suite records its own failures; this says it made sources to check at all.
        #expect(latest.withLock { $0 } != nil, "the conformance suite made no source")
    }
}
