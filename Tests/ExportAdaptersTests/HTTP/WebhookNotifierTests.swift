import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("WebhookNotifier against the fixture receiver")
struct WebhookNotifierTests {
    static let secret = Array("a-webhook-secret-of-32-bytes!!!!".utf8)

    static func notification(_ content: ExportNotification.Content) -> ExportNotification {
        ExportNotification(
            jobID: JobID.random(), owner: UserID(rawValue: "u1"), recipient: EmailAddress("u1@example.com")!, content: content
        )
    }

    static func received(_ peer: PeerProcess, name: String) async throws -> [JSONValue] {
        let response = try await URLSessionTransport().send(TransportRequest(method: "GET", url: peer.baseURL.appendingPathComponent("hooks")))
        return try JSONValue.parse(response.body).arrayValue?.filter { $0["name"]?.stringValue == name } ?? []
    }

    /// Tells the fixture which secret to check webhooks to `name` with; it then records its own verdict
    /// (Python `hmac.compare_digest`, not our `WebhookSignature`) as `signature_verified`.
    static func configureSecret(_ peer: PeerProcess, name: String, secret: [UInt8]) async throws {
        let url = peer.baseURL.appendingPathComponent("hooks/\(name)/secret")
        let response = try await URLSessionTransport().send(TransportRequest(method: "PUT", url: url, body: secret))
        #expect(response.status == 204)
    }

    @Test("A completed event is POSTed once, signed so the receiver can verify it")
    func signedOnce() async throws {
        let peer = try await HostAPIServer.peer()
        let name = MotoServer.uniqueName("hook")
        try await Self.configureSecret(peer, name: name, secret: Self.secret)
        let notifier = try WebhookNotifier(url: peer.baseURL.appendingPathComponent("hooks/\(name)"), secret: Self.secret)
        let link = URL(string: "https://downloads.example.com/x.csv?sig=1")!
        let notification = Self.notification(.ready(.init(link: link, expiresAt: Date(timeIntervalSince1970: 1_800_000_000), rows: 12, bytes: 345, format: .csv)))
        try await notifier.send(notification)
        try await notifier.send(notification)

        let hooks = try await Self.received(peer, name: name)
        #expect(hooks.count == 1)
        let hook = try #require(hooks.first)
        #expect(hook["signature_verified"] == true, "the receiver checks the signature independently")
        let body = Array(try #require(hook["body"]?.stringValue).utf8)
        let signature = try #require(hook["headers"]?["x-export-signature"]?.stringValue)
        #expect(WebhookSignature.verify(header: signature, body: body, secret: Self.secret))
        #expect(!WebhookSignature.verify(header: signature, body: body, secret: Array("another-secret-another-secret!!".utf8)))
        #expect(!WebhookSignature.verify(header: signature, body: body + [0x20], secret: Self.secret))
        #expect(!WebhookSignature.verify(header: signature, body: body, secret: Self.secret, now: Date().addingTimeInterval(3600)))
        #expect(hook["headers"]?["x-export-event-id"]?.stringValue == notification.idempotencyKey)
        #expect(hook["headers"]?["content-type"]?.stringValue == "application/json")
        let event = try JSONValue.parse(body)
        #expect(event["type"] == "export.completed")
        #expect(event["link"]?.stringValue == link.absoluteString)
        #expect(event["rows"] == 12)
        #expect(event["jobID"]?.stringValue == notification.jobID.rawValue)
    }

    @Test("A receiver holding a different secret rejects the signature")
    func wrongSecret() async throws {
        let peer = try await HostAPIServer.peer()
        let name = MotoServer.uniqueName("hook")
        try await Self.configureSecret(peer, name: name, secret: Self.secret)
        let notifier = try WebhookNotifier(
            url: peer.baseURL.appendingPathComponent("hooks/\(name)"), secret: Array("another-secret-another-secret!!".utf8)
        )
        try await notifier.send(Self.notification(.failed(reason: "x")))
        let hook = try #require(try await Self.received(peer, name: name).first)
        #expect(hook["signature_verified"] == false)
    }

    @Test("A failed event carries the reason")
    func failedEvent() async throws {
        let peer = try await HostAPIServer.peer()
        let name = MotoServer.uniqueName("hook")
        let notifier = try WebhookNotifier(url: peer.baseURL.appendingPathComponent("hooks/\(name)"), secret: Self.secret)
        try await notifier.send(Self.notification(.failed(reason: "the memberships API is down")))
        let event = try JSONValue.parse(Array(try #require(try await Self.received(peer, name: name).first?["body"]?.stringValue).utf8))
        #expect(event["type"] == "export.failed")
        #expect(event["reason"] == "the memberships API is down")
    }

    @Test("410 is permanent, 503 retryable with Retry-After, and a failed send can be retried")
    func statuses() async throws {
        let peer = try await HostAPIServer.peer()
        let ledger = InMemoryNotificationLedger()
        let gone = try WebhookNotifier(url: peer.baseURL.appendingPathComponent("hooks/gone"), secret: Self.secret, ledger: ledger)
        let notification = Self.notification(.failed(reason: "x"))
        let permanent = await #expect(throws: ExportError.self) { try await gone.send(notification) }
        #expect(permanent?.isRetryable == false)
        let busy = try WebhookNotifier(url: peer.baseURL.appendingPathComponent("hooks/busy"), secret: Self.secret, ledger: ledger)
        let retryable = await #expect(throws: ExportError.self) { try await busy.send(notification) }
        #expect(retryable?.isRetryable == true)
        #expect(retryable?.retryAt != nil)
        #expect(try await ledger.reserve(notification.idempotencyKey, now: Date(), holdFor: .seconds(1)) == .reserved,
                "a failed send gives its reservation back")
    }

    @Test("Short secrets are rejected")
    func shortSecret() {
        #expect(throws: ExportError.self) { _ = try WebhookNotifier(url: URL(string: "http://x")!, secret: [1, 2, 3]) }
    }
}
