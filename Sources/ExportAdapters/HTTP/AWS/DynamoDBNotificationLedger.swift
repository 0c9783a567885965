import ExportCore
import Foundation

/// A ``NotificationLedger`` in a DynamoDB table (the job table works: items `pk = "notification#<key>"`).
///
/// Reservation is a conditional `PutItem` (absent, or reserved and lapsed), so it is atomic across
/// processes. Items carry a `ttl` ``retention`` after sending so the table cleans itself. Each
/// reservation stores a random `writeToken`, so when the client retries a reservation whose response
/// was lost, the retry that finds its own reservation reports ``LedgerReservation/reserved``, not
/// someone else's reservation in progress.
public struct DynamoDBNotificationLedger: NotificationLedger {
    /// The table's name.
    public let tableName: String
    /// How long a sent key is remembered.
    public var retention: Duration
    let client: AWSServiceClient

    /// Creates the ledger.
    ///
    /// - Parameters:
    ///   - tableName: A table with a string hash key `pk` (``DynamoDBJobStore/createTable(maxPolls:)`` makes one).
    ///   - aws: Credentials, region and endpoint.
    ///   - retention: How long sent keys are remembered; 30 days by default.
    ///   - transport: The HTTP transport; an ``HTTP1Transport`` by default (`https://` through URLSession).
    ///   - clock: The clock for signing.
    public init(
        tableName: String,
        aws: AWSConfiguration,
        retention: Duration = .seconds(30 * 86_400),
        transport: any HTTPTransport = HTTP1Transport(),
        clock: any ExportClock = SystemClock()
    ) {
        self.tableName = tableName
        self.retention = retention
        self.client = AWSServiceClient(configuration: aws, service: "dynamodb", hostPrefix: "dynamodb", transport: transport, clock: clock)
    }

    /// Reserves a key with a conditional put: free, lapsed, or held by an earlier delivery of the same
    /// queue message (`holderMessage`, `holderDelivery` on the item).
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - holder: Who sends, or `nil`.
    ///   - now: The current time.
    ///   - holdFor: How long the reservation lasts.
    /// - Returns: The reservation outcome.
    /// - Throws: `ExportError` when DynamoDB fails.
    public func reserve(_ key: String, holder: LedgerHolder?, now: Date, holdFor: Duration) async throws -> LedgerReservation {
        let until = now.adding(holdFor)
        let token = UUID().uuidString.lowercased()
        var item: [String: JSONValue] = [
            "pk": .s("notification#\(key)"), "kind": .s("notification"), "status": .s("reserved"),
            "writeToken": .s(token), "until": .n(String(until.timeIntervalSince1970)),  // a Number: the condition below compares it
            "ttl": .n(String(Int64(until.timeIntervalSince1970 + DurationSeconds.of(retention)))),
        ]
        // Free, lapsed, or held by an earlier delivery of the same message (whose lease provably ran out).
        var condition = "attribute_not_exists(pk) OR (#s = :reserved AND #u <= :now)"
        var values: [String: JSONValue] = [":reserved": .s("reserved"), ":now": .n(String(now.timeIntervalSince1970))]
        if let holder {
            item["holderMessage"] = .s(holder.message)
            item["holderDelivery"] = .n(String(holder.delivery))
            condition += " OR (#s = :reserved AND #hm = :hm AND #hd < :hd)"
            values[":hm"] = .s(holder.message)
            values[":hd"] = .n(String(holder.delivery))
        }
        var names: [String: JSONValue] = ["#s": "status", "#u": "until"]
        if holder != nil {
            names["#hm"] = "holderMessage"
            names["#hd"] = "holderDelivery"
        }
        do {
            _ = try await call("PutItem", [
                "TableName": .string(tableName), "Item": .object(item), "ConditionExpression": .string(condition),
                "ExpressionAttributeNames": .object(names), "ExpressionAttributeValues": .object(values),
            ])
            return .reserved
        } catch let error as ExportError where error.code == .versionConflict {
            let result = try await call("GetItem", [
                "TableName": .string(tableName), "Key": ["pk": .s("notification#\(key)")], "ConsistentRead": true,
            ])
            if result["Item"]?["status"]?["S"]?.stringValue == "sent" { return .alreadySent }
            if result["Item"]?["writeToken"]?["S"]?.stringValue == token { return .reserved }
            let held = result["Item"]?["until"]?["N"]?.stringValue.flatMap(Double.init).map(Date.init(timeIntervalSince1970:))
            return .inProgress(until: held ?? until)
        }
    }

    /// Marks a key sent.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - at: When it was sent.
    ///   - providerMessageID: The channel's message id (SES's `MessageId`), stored as `providerMessageId`.
    /// - Throws: `ExportError` when DynamoDB fails.
    public func markSent(_ key: String, at: Date, providerMessageID: String?) async throws {
        _ = try await call("PutItem", [
            "TableName": .string(tableName),
            "Item": [
                "pk": .s("notification#\(key)"), "kind": .s("notification"), "status": .s("sent"),
                "sentAt": .s(RFC3339.string(at, fractionDigits: 3) ?? String(at.timeIntervalSince1970)),
                "providerMessageId": .s(providerMessageID ?? "unknown"),
                "ttl": .n(String(Int64(at.timeIntervalSince1970 + DurationSeconds.of(retention)))),
            ],
        ])
    }

    /// Deletes a reservation that was not confirmed.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    /// - Throws: `ExportError` when DynamoDB fails.
    public func cancelReservation(_ key: String) async throws {
        do {
            _ = try await call("DeleteItem", [
                "TableName": .string(tableName), "Key": ["pk": .s("notification#\(key)")],
                "ConditionExpression": "#s = :reserved", "ExpressionAttributeNames": ["#s": "status"],
                "ExpressionAttributeValues": [":reserved": .s("reserved")],
            ])
        } catch let error as ExportError where error.code == .versionConflict {
            return
        }
    }

    private func call(_ operation: String, _ body: JSONValue) async throws -> JSONValue {
        try await client.json(target: "DynamoDB_20120810.\(operation)", body)
    }
}
