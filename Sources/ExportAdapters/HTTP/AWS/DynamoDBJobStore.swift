import ExportCore
import Foundation

/// A `JobStore` on Amazon DynamoDB: one table, conditional writes, and an owner index.
///
/// ## Table design
/// The table has a string hash key `pk` and no sort key (``createTable(maxPolls:)`` creates it):
/// - a **job** item: `pk = "job#<id>"`, `kind = "job"`, `job` (the job as JSON), `version` (N),
///   `owner` (S), `createdKey` (S, the creation time in an order-preserving hex form, `#`, the id),
///   `state` (S), `updatedAt` (N, epoch seconds), `expiresAt` (N) and `ttl` (N) once the job ends,
///   `uniqueKey` (S) when it has one;
/// - a **unique-key** item: `pk = "unique#<key>"`, `jobID`: written in the same `TransactWriteItems`
///   as the job, so two processes creating at once cannot both hold a key; deleted (conditionally on
///   `jobID`) when the job becomes terminal. A key whose holder is terminal or gone is taken over.
/// - the global secondary index `owner-created` (hash `owner`, range `createdKey`, all attributes
///   projected) lists an owner's jobs newest first with one `Query`; only job items carry `owner`.
///
/// Every update is a `PutItem` conditioned on the stored `version`, which is the compare-and-swap.
///
/// **Lost responses.** The client retries a call whose response was lost (a timeout, a 5xx), and the
/// retry of a conditional write that did succeed fails its own condition. So each write stores a
/// fresh random `writeToken`, and a failed condition is taken as success when the stored item
/// carries this write's token (and version); `TransactWriteItems` also sends the token as its
/// `ClientRequestToken`, which DynamoDB makes idempotent for 10 minutes.
/// DynamoDB's TTL deletes items on its own some time after `ttl`, which is set ``ttlGrace`` after
/// `expiresAt`, so ``expired(now:limit:)`` normally sees a job first and its file is deleted too.
///
/// ``stale(in:updatedBefore:limit:)``, ``unnotified(updatedBefore:limit:)`` and ``expired(now:limit:)`` are `Scan`s with a filter: they
/// read (and are billed for) the whole table on each call. They run in the reconciler every few
/// minutes, which is cheap for thousands of jobs; for millions, add a sparse index on a
/// "needs attention" attribute instead.
public struct DynamoDBJobStore: JobStore {
    /// The table's name.
    public let tableName: String
    /// How long after `expiresAt` DynamoDB's own TTL may delete a job.
    public var ttlGrace: Duration
    /// The owner index's name.
    public static let ownerIndex = "owner-created"
    let client: AWSServiceClient

    /// Creates the store.
    ///
    /// - Parameters:
    ///   - tableName: The table.
    ///   - aws: Credentials, region and endpoint.
    ///   - ttlGrace: Time between a job's expiry and DynamoDB's TTL deletion; 7 days by default.
    ///   - transport: The HTTP transport; an ``HTTP1Transport`` by default (`https://` through URLSession).
    ///   - clock: The clock for signing.
    public init(
        tableName: String,
        aws: AWSConfiguration,
        ttlGrace: Duration = .seconds(7 * 86_400),
        transport: any HTTPTransport = HTTP1Transport(),
        clock: any ExportClock = SystemClock()
    ) {
        self.tableName = tableName
        self.ttlGrace = ttlGrace
        self.client = AWSServiceClient(configuration: aws, service: "dynamodb", hostPrefix: "dynamodb", transport: transport, clock: clock)
    }

    /// Creates the table, its owner index and its TTL setting (for tests and development); an existing
    /// table is left alone. Waits (on the store's clock, polling `DescribeTable` up to
    /// `maxPolls` times a second apart) until the table and its index are `ACTIVE`, since DynamoDB
    /// refuses `UpdateTimeToLive` and item writes on a table still being created.
    ///
    /// - Parameters:
    ///   - maxPolls: How many times to ask whether the table is active; 120 by default.
    /// - Throws: `ExportError` when DynamoDB refuses, or `ExportError.Code.timeout` when the table
    ///   is still not active after `maxPolls` polls.
    public func createTable(maxPolls: Int = 120) async throws {
        do {
            _ = try await call("CreateTable", [
                "TableName": .string(tableName),
                "AttributeDefinitions": [
                    ["AttributeName": "pk", "AttributeType": "S"],
                    ["AttributeName": "owner", "AttributeType": "S"],
                    ["AttributeName": "createdKey", "AttributeType": "S"],
                ],
                "KeySchema": [["AttributeName": "pk", "KeyType": "HASH"]],
                "BillingMode": "PAY_PER_REQUEST",
                "GlobalSecondaryIndexes": [[
                    "IndexName": .string(Self.ownerIndex),
                    "KeySchema": [["AttributeName": "owner", "KeyType": "HASH"], ["AttributeName": "createdKey", "KeyType": "RANGE"]],
                    "Projection": ["ProjectionType": "ALL"],
                ]],
            ])
        } catch let error as ExportError where error.code == .alreadyExists {
            return
        }
        try await waitUntilActive(maxPolls: maxPolls)
        _ = try await call("UpdateTimeToLive", [
            "TableName": .string(tableName),
            "TimeToLiveSpecification": ["Enabled": true, "AttributeName": "ttl"],
        ])
    }

    /// Polls `DescribeTable` until the table and every global secondary index are `ACTIVE`.
    func waitUntilActive(maxPolls: Int) async throws {
        for poll in 0..<max(1, maxPolls) {
            if poll > 0 { try await client.clock.sleep(for: .seconds(1)) }
            let table = try await call("DescribeTable", ["TableName": .string(tableName)])["Table"]
            let indexes = table?["GlobalSecondaryIndexes"]?.arrayValue ?? []
            if table?["TableStatus"]?.stringValue == "ACTIVE",
               indexes.allSatisfy({ $0["IndexStatus"]?.stringValue == "ACTIVE" }) {
                return
            }
        }
        throw ExportError(.timeout, "Table \(tableName) was not ACTIVE after \(maxPolls) polls")
    }

    /// Stores a new job (version 1), or returns the job holding its id or unique key.
    ///
    /// - Parameters:
    ///   - job: The job.
    /// - Returns: `.created` or `.existing`.
    /// - Throws: `ExportError` when DynamoDB fails.
    public func create(_ job: ExportJob) async throws -> JobCreation {
        var stored = job
        stored.version = 1
        guard let key = stored.uniqueKey, !stored.state.isTerminal else {
            let token = Self.newWriteToken()
            do {
                _ = try await call("PutItem", [
                    "TableName": .string(tableName), "Item": try jobItem(stored, writeToken: token),
                    "ConditionExpression": "attribute_not_exists(pk)",
                ])
                return .created(stored)
            } catch let error as ExportError where error.code == .versionConflict {
                if let existing = try await storedJob(job.id) {
                    return existing.writeToken == token ? .created(existing.job) : .existing(existing.job)
                }
                throw error
            }
        }
        var keyCondition: (expression: String, values: JSONValue?) = ("attribute_not_exists(pk)", nil)
        for _ in 0..<4 {
            let token = Self.newWriteToken()
            let putJob: JSONValue = ["Put": [
                "TableName": .string(tableName), "Item": try jobItem(stored, writeToken: token),
                "ConditionExpression": "attribute_not_exists(pk)",
            ]]
            var putKey: [String: JSONValue] = [
                "TableName": .string(tableName),
                "Item": [
                    "pk": .s("unique#\(key)"), "kind": .s("unique"), "jobID": .s(stored.id.rawValue),
                    "claimedAt": .n(Self.number(stored.createdAt.timeIntervalSince1970.rounded(.down))),
                ],
                "ConditionExpression": .string(keyCondition.expression),
            ]
            if let values = keyCondition.values { putKey["ExpressionAttributeValues"] = values }
            do {
                _ = try await call("TransactWriteItems", [
                    "TransactItems": [putJob, ["Put": .object(putKey)]], "ClientRequestToken": .string(token),
                ])
                return .created(stored)
            } catch let error as ExportError where error.code == .versionConflict {
                if let existing = try await storedJob(job.id) {
                    return existing.writeToken == token ? .created(existing.job) : .existing(existing.job)
                }
                let holderKey = try await uniqueKeyHolder(key)
                guard let (holderID, claimedAt) = holderKey else {
                    keyCondition = ("attribute_not_exists(pk)", nil)  // released meanwhile
                    continue
                }
                if let holder = try await get(holderID) {
                    if !holder.state.isTerminal { return .existing(holder) }
                } else if claimedAt > stored.createdAt.addingTimeInterval(-Self.vanishedHolderGrace) {
                    // A fresh key whose job is not readable yet: another create is in flight (or
                    // a store showed the transaction's key item before its job item). Not ours.
                    continue
                }
                // The key is held by a job that ended, or that vanished long ago without releasing it.
                keyCondition = ("jobID = :stale", [":stale": .s(holderID.rawValue)])
            }
        }
        throw ExportError(.versionConflict, "Creating job \(job.id) kept racing for unique key \(key)")
    }

    /// Reads a job with a strongly consistent read.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    /// - Returns: The job, or `nil`.
    /// - Throws: `ExportError.Code.corruptData` when the item cannot be decoded.
    public func get(_ id: JobID) async throws -> ExportJob? {
        let result = try await call("GetItem", [
            "TableName": .string(tableName), "Key": ["pk": .s("job#\(id)")], "ConsistentRead": true,
        ])
        guard let item = result["Item"] else { return nil }
        return try Self.decodeJob(item)
    }

    /// Replaces a job if its stored version matches (a conditional `PutItem`).
    ///
    /// - Parameters:
    ///   - job: The new content with the version that was read.
    /// - Returns: The stored job with its new version.
    /// - Throws: `ExportError.Code.versionConflict` or `ExportError.Code.notFound`.
    public func update(_ job: ExportJob) async throws -> ExportJob {
        var updated = job
        updated.version = job.version + 1
        for _ in 0..<2 {
            let token = Self.newWriteToken()
            let item = try jobItem(updated, writeToken: token)
            do {
                _ = try await call("PutItem", [
                    "TableName": .string(tableName), "Item": item,
                    "ConditionExpression": "#v = :v AND #o = :o AND #c = :c",
                    "ExpressionAttributeNames": ["#v": "version", "#o": "owner", "#c": "createdKey"],
                    "ExpressionAttributeValues": [
                        ":v": .n(String(job.version)), ":o": .s(updated.owner.rawValue), ":c": .s(Self.createdKey(updated)),
                    ],
                ])
                try await releaseKeyIfDone(previous: job, updated: updated)
                return updated
            } catch let error as ExportError where error.code == .versionConflict {
                guard let current = try await storedJob(job.id) else { throw ExportError(.notFound, "No job \(job.id)") }
                let stored = current.job
                if current.writeToken == token, stored.version == updated.version {
                    // This very write succeeded; only its response was lost and the retry failed.
                    try await releaseKeyIfDone(previous: job, updated: stored)
                    return stored
                }
                guard stored.version == job.version else {
                    throw ExportError(.versionConflict, "Job \(job.id) is at version \(stored.version), the update was based on \(job.version)")
                }
                // Owner and creation time never change: keep the stored ones and try once more.
                updated.owner = stored.owner
                updated.createdAt = stored.createdAt
            }
        }
        throw ExportError(.versionConflict, "Job \(job.id) changed during the update")
    }

    private func releaseKeyIfDone(previous: ExportJob, updated: ExportJob) async throws {
        guard let key = previous.uniqueKey ?? updated.uniqueKey else { return }
        if updated.state.isTerminal || updated.uniqueKey != key {
            try await releaseKey(key, heldBy: updated.id)
        }
    }

    func releaseKey(_ key: String, heldBy id: JobID) async throws {
        do {
            _ = try await call("DeleteItem", [
                "TableName": .string(tableName), "Key": ["pk": .s("unique#\(key)")],
                "ConditionExpression": "jobID = :id", "ExpressionAttributeValues": [":id": .s(id.rawValue)],
            ])
        } catch let error as ExportError where error.code == .versionConflict {
            return // held by another job (or already released): not ours to delete
        }
    }

    /// How old a unique key must be before a holder that cannot be read is taken as vanished.
    static let vanishedHolderGrace: TimeInterval = 60

    /// The job holding a unique key, and when it claimed it.
    func uniqueKeyHolder(_ key: String) async throws -> (JobID, Date)? {
        let result = try await call("GetItem", [
            "TableName": .string(tableName), "Key": ["pk": .s("unique#\(key)")], "ConsistentRead": true,
        ])
        guard let item = result["Item"], let id = item["jobID"]?["S"]?.stringValue.flatMap(JobID.init) else { return nil }
        let claimed = item["claimedAt"]?["N"]?.stringValue.flatMap(Double.init) ?? 0
        return (id, Date(timeIntervalSince1970: claimed))
    }

    func call(_ operation: String, _ body: JSONValue) async throws -> JSONValue {
        try await client.json(target: "DynamoDB_20120810.\(operation)", body)
    }
}

extension JSONValue {
    /// A DynamoDB string attribute.
    static func s(_ value: String) -> JSONValue { ["S": .string(value)] }
    /// A DynamoDB number attribute.
    static func n(_ value: String) -> JSONValue { ["N": .string(value)] }
}
