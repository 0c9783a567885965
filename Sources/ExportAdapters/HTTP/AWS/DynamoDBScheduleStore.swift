import ExportCore
import Foundation

/// A `ScheduleStore` on Amazon DynamoDB, in the jobs table of ``DynamoDBJobStore`` (or any table with
/// a string hash key `pk`).
///
/// ## Item
/// `pk = "schedule#<id>"`, `kind = "schedule"`, `schedule` (the schedule as JSON, dates RFC 3339),
/// `version` (N), `scheduleOwner` (S), `nextRunAt` (N, epoch seconds; absent once ended), `paused`
/// (BOOL) and `writeToken`. The owner is not in `owner`, so schedule items stay out of the jobs'
/// `owner-created` index, and none of the attributes the job scans filter on is set.
///
/// Every update is a `PutItem` conditioned on the stored `version` (the compare-and-swap); a failed
/// condition whose stored item carries this write's token is the success of a retried call whose
/// response was lost. ``list(owner:after:limit:)`` and ``due(at:limit:)`` are filtered `Scan`s: they
/// read the whole table, which suits a scheduler ticking every few seconds on thousands of items;
/// for more, add a sparse index on `nextRunAt`.
public struct DynamoDBScheduleStore: ScheduleStore {
    /// The table's name.
    public let tableName: String
    let client: AWSServiceClient

    /// Creates the store.
    ///
    /// - Parameters:
    ///   - tableName: The table (``DynamoDBJobStore/createTable(maxPolls:)`` creates a suitable one).
    ///   - aws: Credentials, region and endpoint.
    ///   - transport: The HTTP transport; an ``HTTP1Transport`` by default (`https://` through URLSession).
    ///   - clock: The clock for signing.
    public init(tableName: String, aws: AWSConfiguration, transport: any HTTPTransport = HTTP1Transport(), clock: any ExportClock = SystemClock()) {
        self.tableName = tableName
        self.client = AWSServiceClient(configuration: aws, service: "dynamodb", hostPrefix: "dynamodb", transport: transport, clock: clock)
    }

    /// Stores a new schedule (version 1).
    ///
    /// - Parameters:
    ///   - schedule: The schedule.
    /// - Returns: The stored schedule.
    /// - Throws: `ExportError.Code.alreadyExists` for a taken id; DynamoDB's errors.
    public func create(_ schedule: ExportSchedule) async throws -> ExportSchedule {
        var stored = schedule
        stored.version = 1
        let token = UUID().uuidString.lowercased()
        do {
            _ = try await call("PutItem", [
                "TableName": .string(tableName), "Item": try item(stored, writeToken: token), "ConditionExpression": "attribute_not_exists(pk)",
            ])
            return stored
        } catch let error as ExportError where error.code == .versionConflict {
            if let current = try await read(schedule.id), current.writeToken == token { return current.schedule }
            throw ExportError(.alreadyExists, "schedule \(schedule.id) already exists")
        }
    }

    /// Reads a schedule with a strongly consistent read.
    ///
    /// - Parameters:
    ///   - id: The id.
    /// - Returns: The schedule, or `nil`.
    /// - Throws: `ExportError.Code.corruptData` for an undecodable item.
    public func get(_ id: ScheduleID) async throws -> ExportSchedule? { try await read(id)?.schedule }

    /// Replaces a schedule if its stored version matches (a conditional `PutItem`).
    ///
    /// - Parameters:
    ///   - schedule: The new content with the version read.
    /// - Returns: The stored schedule with its new version.
    /// - Throws: `ExportError.Code.versionConflict` or `ExportError.Code.notFound`.
    public func update(_ schedule: ExportSchedule) async throws -> ExportSchedule {
        guard let stored = try await read(schedule.id)?.schedule else { throw ExportError(.notFound, "no schedule \(schedule.id)") }
        var updated = schedule
        updated.owner = stored.owner
        updated.createdAt = stored.createdAt
        updated.version = schedule.version + 1
        let token = UUID().uuidString.lowercased()
        do {
            _ = try await call("PutItem", [
                "TableName": .string(tableName), "Item": try item(updated, writeToken: token),
                "ConditionExpression": "#v = :v", "ExpressionAttributeNames": ["#v": "version"],
                "ExpressionAttributeValues": [":v": .n(String(schedule.version))],
            ])
            return updated
        } catch let error as ExportError where error.code == .versionConflict {
            guard let current = try await read(schedule.id) else { throw ExportError(.notFound, "no schedule \(schedule.id)") }
            if current.writeToken == token { return current.schedule }  // this write landed; its response was lost
            throw ExportError(.versionConflict, "schedule \(schedule.id) is at version \(current.schedule.version), not \(schedule.version)")
        }
    }

    /// Deletes a schedule.
    ///
    /// - Parameters:
    ///   - id: The id.
    ///   - version: Only at this version, or `nil`.
    /// - Returns: Whether one was deleted.
    /// - Throws: `ExportError.Code.versionConflict` for a stale version.
    public func delete(_ id: ScheduleID, version: UInt64?) async throws -> Bool {
        var request: [String: JSONValue] = [
            "TableName": .string(tableName), "Key": ["pk": .s("schedule#\(id)")], "ReturnValues": "ALL_OLD",
        ]
        if let version {
            request["ConditionExpression"] = "#v = :v"
            request["ExpressionAttributeNames"] = ["#v": "version"]
            request["ExpressionAttributeValues"] = [":v": .n(String(version))]
        }
        do {
            let result = try await call("DeleteItem", .object(request))
            return result["Attributes"] != nil
        } catch let error as ExportError where error.code == .versionConflict {
            guard try await read(id) != nil else { return false }
            throw ExportError(.versionConflict, "schedule \(id) is not at version \(version ?? 0)")
        }
    }

    /// Lists one owner's schedules, oldest first (a filtered `Scan`).
    ///
    /// - Parameters:
    ///   - owner: The owner.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most to return (at least 1).
    /// - Returns: The page.
    /// - Throws: `ExportError.Code.invalidRequest` for a bad limit or cursor.
    public func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportSchedule> {
        let items = try await scan(filter: "#k = :k AND #o = :o", names: ["#k": "kind", "#o": "scheduleOwner"], values: [":k": .s("schedule"), ":o": .s(owner.rawValue)])
        return try ScheduleListing.page(items, after: cursor, limit: limit)
    }

    /// The unpaused schedules due at `now`, earliest first (a filtered `Scan`).
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - limit: The most to return.
    /// - Returns: The due schedules.
    /// - Throws: DynamoDB's errors.
    public func due(at now: Date, limit: Int) async throws -> [ExportSchedule] {
        let items = try await scan(
            filter: "#k = :k AND #p = :f AND #n <= :t", names: ["#k": "kind", "#p": "paused", "#n": "nextRunAt"],
            values: [":k": .s("schedule"), ":f": ["BOOL": false], ":t": .n(DynamoDBJobStore.number(now.timeIntervalSince1970))])
        return ScheduleListing.due(items, at: now, limit: limit)
    }

    // MARK: Items

    private func item(_ schedule: ExportSchedule, writeToken: String) throws -> JSONValue {
        let json = String(decoding: try RFC3339.recordEncoder().encode(schedule), as: UTF8.self)
        var item: [String: JSONValue] = [
            "pk": .s("schedule#\(schedule.id)"), "kind": .s("schedule"), "schedule": .s(json), "version": .n(String(schedule.version)),
            "scheduleOwner": .s(schedule.owner.rawValue), "paused": ["BOOL": .bool(schedule.paused)], "writeToken": .s(writeToken),
        ]
        // Rounded up, so `nextRunAt <= now` never picks a schedule a fraction of a second early.
        if let next = schedule.nextRunAt { item["nextRunAt"] = .n(String(Int64(next.timeIntervalSince1970.rounded(.up)))) }
        return .object(item)
    }

    private func read(_ id: ScheduleID) async throws -> (schedule: ExportSchedule, writeToken: String?)? {
        let result = try await call("GetItem", ["TableName": .string(tableName), "Key": ["pk": .s("schedule#\(id)")], "ConsistentRead": true])
        guard let item = result["Item"] else { return nil }
        return (try Self.decode(item), item["writeToken"]?["S"]?.stringValue)
    }

    static func decode(_ item: JSONValue) throws(ExportError) -> ExportSchedule {
        guard let json = item["schedule"]?["S"]?.stringValue, let version = item["version"]?["N"]?.stringValue.flatMap(UInt64.init) else {
            throw ExportError(.corruptData, "the schedule item \(item["pk"]?["S"]?.stringValue ?? "?") lacks its schedule or version")
        }
        do {
            var schedule = try RFC3339.recordDecoder().decode(ExportSchedule.self, from: Data(json.utf8))
            schedule.version = version
            return schedule
        } catch {
            throw ExportError(.corruptData, "the schedule item \(item["pk"]?["S"]?.stringValue ?? "?") cannot be decoded", cause: error)
        }
    }

    /// A filtered scan; every attribute goes through `names`, so none can clash with a reserved word.
    private func scan(filter: String, names: [String: JSONValue], values: [String: JSONValue]) async throws -> [ExportSchedule] {
        var schedules: [ExportSchedule] = []
        var start: JSONValue?
        repeat {
            var request: [String: JSONValue] = [
                "TableName": .string(tableName), "FilterExpression": .string(filter), "ExpressionAttributeNames": .object(names),
                "ExpressionAttributeValues": .object(values),
                "ConsistentRead": true,
            ]
            if let start { request["ExclusiveStartKey"] = start }
            let result = try await call("Scan", .object(request))
            for item in result["Items"]?.arrayValue ?? [] {
                // A corrupt item is skipped, as the port says; `get` reports it.
                if let schedule = try? Self.decode(item) { schedules.append(schedule) }
            }
            start = result["LastEvaluatedKey"]
        } while start != nil
        return schedules
    }

    private func call(_ operation: String, _ body: JSONValue) async throws -> JSONValue {
        try await client.json(target: "DynamoDB_20120810.\(operation)", body)
    }
}
