import ExportCore
import Foundation

/// A `Notifier` that e-mails through Amazon SES (API v2 `SendEmail`, text and HTML parts).
///
/// SES has no idempotency key, so every send goes through a ``NotificationLedger``: use a
/// ``DynamoDBNotificationLedger`` when several workers share the queue, so a redelivered job still
/// produces one e-mail. SES errors map to `ExportError`: throttling and 5xx are retryable, an
/// unverified sender or a rejected message is permanent.
public struct SESNotifier: Notifier {
    /// The verified sender address, such as `exports@example.com` or `Example <exports@example.com>`.
    public let fromAddress: String
    /// The product name used in subjects ("Your <name> export is ready").
    public var productName: String
    /// The ledger of sent keys.
    public let ledger: any NotificationLedger
    /// The longest a send reservation keeps other senders away: a reservation lasts no longer than
    /// the sender's queue lease (`ExportNotification.lease`), and the next delivery of the same
    /// message takes it over at once. 60 seconds by default, well above an SES call's timeout.
    public var reservationHold: Duration
    let client: AWSServiceClient

    /// Creates the notifier.
    ///
    /// - Parameters:
    ///   - fromAddress: The verified sender.
    ///   - productName: The product name for subjects; `membership` by default.
    ///   - ledger: The ledger of sent keys.
    ///   - aws: Credentials, region and endpoint.
    ///   - reservationHold: The longest a send reservation lasts; 60 seconds by default.
    ///   - transport: The HTTP transport; an ``HTTP1Transport`` by default (`https://` through URLSession).
    ///   - clock: The clock for signing and the ledger.
    public init(
        fromAddress: String,
        productName: String = "membership",
        ledger: any NotificationLedger,
        aws: AWSConfiguration,
        reservationHold: Duration = .seconds(60),
        transport: any HTTPTransport = HTTP1Transport(),
        clock: any ExportClock = SystemClock()
    ) {
        self.fromAddress = fromAddress
        self.productName = productName
        self.ledger = ledger
        self.reservationHold = reservationHold
        self.client = AWSServiceClient(configuration: aws, service: "ses", hostPrefix: "email", transport: transport, clock: clock)
    }

    /// Sends the e-mail once per idempotency key.
    ///
    /// - Parameters:
    ///   - notification: What to say, to whom.
    /// - Throws: `ExportError` when SES or the ledger fails.
    public func send(_ notification: ExportNotification) async throws {
        let email = NotificationEmail(notification, productName: productName)
        try await ledger.deliverOnce(notification.idempotencyKey, lease: notification.lease, clock: client.clock, holdFor: reservationHold) {
            let body: JSONValue = [
                "FromEmailAddress": .string(fromAddress),
                "Destination": ["ToAddresses": [.string(notification.recipient.rawValue)]],
                "Content": ["Simple": [
                    "Subject": ["Data": .string(email.subject), "Charset": "UTF-8"],
                    "Body": [
                        "Text": ["Data": .string(email.text), "Charset": "UTF-8"],
                        "Html": ["Data": .string(email.html), "Charset": "UTF-8"],
                    ],
                ]],
            ]
            let response = try await rest("POST", "/v2/email/outbound-emails", body, operation: "SendEmail")
            return response["MessageId"]?.stringValue
        }
    }

    /// Registers a sender identity (for tests and development; in production verify it in the console).
    ///
    /// - Parameters:
    ///   - identity: An address or a domain.
    /// - Throws: `ExportError` when SES refuses (an existing identity is fine).
    public func createIdentity(_ identity: String) async throws {
        do {
            _ = try await rest("POST", "/v2/email/identities", ["EmailIdentity": .string(identity)], operation: "CreateEmailIdentity")
        } catch let error as ExportError where error.code == .alreadyExists {
            return
        }
    }

    private func rest(_ method: String, _ path: String, _ body: JSONValue, operation: String) async throws -> JSONValue {
        let response = try await client.send(
            method: method, path: path, headers: [("Content-Type", "application/json")], body: body.serialized()
        )
        guard response.isSuccess else { throw client.jsonError(response, operation: operation) }
        return response.body.isEmpty ? .object([:]) : try JSONValue.parse(response.body)
    }
}
