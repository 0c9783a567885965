import ExportCore
import Foundation

/// A `Notifier` that POSTs a signed JSON event to a URL: how a host forwards export events to its
/// own mail service, a chat tool or a Kafka REST proxy.
///
/// The body is `{"type": "export.completed" | "export.failed", "id": <idempotency key>, "jobID", "owner",
/// "recipient", "occurredAt", …}` with `link`, `expiresAt`, `rows`, `bytes` and `format` when completed and
/// `reason` when failed. Each request carries `X-Export-Signature` (see ``WebhookSignature``) and
/// `X-Export-Event-ID`. A 2xx answer is success; 408, 429 and 5xx are retryable (honouring
/// `Retry-After`); other 4xx are permanent. Sends go through a ``NotificationLedger`` so a key is
/// delivered once per ledger; receivers should still de-duplicate on the event id.
public struct WebhookNotifier: Notifier {
    /// Where events are POSTed.
    public let url: URL
    /// The shared secret for the signature.
    let secret: [UInt8]
    /// Extra headers (for example a bearer token for the receiver).
    public var headers: [(name: String, value: String)]
    /// The ledger of delivered keys.
    public let ledger: any NotificationLedger
    /// How long one delivery may take.
    public var timeout: Duration
    let transport: any HTTPTransport
    let clock: any ExportClock

    /// Creates the notifier.
    ///
    /// - Parameters:
    ///   - url: The receiver's URL.
    ///   - secret: The shared secret (at least 16 bytes).
    ///   - headers: Extra headers to send.
    ///   - ledger: The ledger of delivered keys; in-memory by default (one process).
    ///   - timeout: How long one delivery may take; 10 seconds by default.
    ///   - transport: The HTTP transport; an ``HTTP1Transport`` by default (`https://` through URLSession).
    ///   - clock: The clock for timestamps.
    /// - Throws: `ExportError.Code.configuration` for a secret shorter than 16 bytes.
    public init(
        url: URL,
        secret: [UInt8],
        headers: [(name: String, value: String)] = [],
        ledger: any NotificationLedger = InMemoryNotificationLedger(),
        timeout: Duration = .seconds(10),
        transport: any HTTPTransport = HTTP1Transport(),
        clock: any ExportClock = SystemClock()
    ) throws(ExportError) {
        guard secret.count >= 16 else {
            throw ExportError(.configuration, "The webhook secret must be at least 16 bytes")
        }
        self.url = url
        self.secret = secret
        self.headers = headers
        self.ledger = ledger
        self.timeout = timeout
        self.transport = transport
        self.clock = clock
    }

    /// POSTs the event once per idempotency key.
    ///
    /// - Parameters:
    ///   - notification: The event.
    /// - Throws: `ExportError` mapped from the receiver's status, or a transport failure.
    public func send(_ notification: ExportNotification) async throws {
        try await ledger.deliverOnce(notification.idempotencyKey, lease: notification.lease, clock: clock, holdFor: timeout * 3) {
            let now = clock.now()
            let body = Self.event(notification, at: now).serialized()
            var request = TransportRequest(method: "POST", url: url, headers: headers, body: body, timeout: timeout)
            request.setHeader("Content-Type", "application/json")
            request.setHeader(WebhookSignature.headerName, WebhookSignature.sign(body: body, secret: secret, timestamp: now))
            request.setHeader(WebhookSignature.eventIDHeaderName, notification.idempotencyKey)
            let response = try await transport.send(request)
            guard response.isSuccess else {
                throw HTTPErrorMapping.error(
                    status: response.status, serviceCode: nil, message: String(response.bodyText.prefix(200)),
                    operation: "Webhook POST", retryAfter: response.header("retry-after"), now: now
                )
            }
            return nil  // the receiver's id is the event id it was given
        }
    }

    /// The JSON event for a notification.
    ///
    /// - Parameters:
    ///   - notification: The notification.
    ///   - date: When the event is sent.
    /// - Returns: The event document.
    public static func event(_ notification: ExportNotification, at date: Date) -> JSONValue {
        var event: [String: JSONValue] = [
            "id": .string(notification.idempotencyKey), "jobID": .string(notification.jobID.rawValue),
            "owner": .string(notification.owner.rawValue), "recipient": .string(notification.recipient.rawValue),
            "occurredAt": .string(iso(date)),
        ]
        switch notification.content {
        case .ready(let details):
            event["type"] = "export.completed"
            event["link"] = .string(details.link.absoluteString)
            event["expiresAt"] = .string(iso(details.expiresAt))
            event["rows"] = .number(Double(details.rows))
            event["bytes"] = .number(Double(details.bytes))
            event["format"] = .string(details.format.identifier)
        case .failed(let reason):
            event["type"] = "export.failed"
            event["reason"] = .string(reason)
        }
        return .object(event)
    }

    private static func iso(_ date: Date) -> String {
        RFC3339.string(date, fractionDigits: 3) ?? "\(date)"
    }
}
