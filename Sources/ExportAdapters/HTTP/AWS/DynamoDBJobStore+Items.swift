import ExportCore
import Foundation

extension DynamoDBJobStore {
    /// The job's item, stamped with the token of the write that stores it.
    func jobItem(_ job: ExportJob, writeToken: String) throws -> JSONValue {
        // The `job` attribute is the record's JSON, dates as RFC 3339 UTC with nanoseconds.
        let json = String(decoding: try RFC3339.recordEncoder().encode(job), as: UTF8.self)
        var item: [String: JSONValue] = [
            "pk": .s("job#\(job.id)"), "kind": .s("job"), "job": .s(json), "version": .n(String(job.version)),
            "owner": .s(job.owner.rawValue), "createdKey": .s(Self.createdKey(job)), "state": .s(job.state.rawValue),
            "updatedAt": .n(Self.number(job.updatedAt.timeIntervalSince1970)),
        ]
        if let expiresAt = job.expiresAt {
            item["expiresAt"] = .n(Self.number(expiresAt.timeIntervalSince1970))
            item["ttl"] = .n(String(Int64(expiresAt.timeIntervalSince1970 + DurationSeconds.of(ttlGrace))))
        }
        if let key = job.uniqueKey { item["uniqueKey"] = .s(key) }
        item["writeToken"] = .s(writeToken)
        return .object(item)
    }

    /// A fresh token for one write (36 characters, the most `ClientRequestToken` takes).
    static func newWriteToken() -> String {
        UUID().uuidString.lowercased()
    }

    /// The stored job and the token of the write that stored it, with a strongly consistent read.
    func storedJob(_ id: JobID) async throws -> (job: ExportJob, writeToken: String?)? {
        let result = try await call("GetItem", [
            "TableName": .string(tableName), "Key": ["pk": .s("job#\(id)")], "ConsistentRead": true,
        ])
        guard let item = result["Item"] else { return nil }
        return (try Self.decodeJob(item), item["writeToken"]?["S"]?.stringValue)
    }

    static func decodeJob(_ item: JSONValue) throws(ExportError) -> ExportJob {
        guard let json = item["job"]?["S"]?.stringValue, let version = item["version"]?["N"]?.stringValue.flatMap(UInt64.init) else {
            throw ExportError(.corruptData, "The job item \(item["pk"]?["S"]?.stringValue ?? "?") lacks its job or version")
        }
        do {
            var job = try RFC3339.recordDecoder().decode(ExportJob.self, from: Data(json.utf8))
            job.version = version
            return job
        } catch {
            throw ExportError(.corruptData, "The job item \(item["pk"]?["S"]?.stringValue ?? "?") cannot be decoded", cause: error)
        }
    }

    /// The creation time's IEEE bits made order-preserving, in hex, then `#` and the id: sorting these
    /// strings sorts jobs by (createdAt, id).
    static func createdKey(_ job: ExportJob) -> String {
        let bits = job.createdAt.timeIntervalSinceReferenceDate.bitPattern
        let ordered = bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
        let hex = String(ordered, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + "#" + job.id.rawValue
    }

    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 9e15 ? String(Int64(value)) : String(value)
    }

    /// Lists one owner's jobs, newest first, with one `Query` on the owner index.
    ///
    /// - Parameters:
    ///   - owner: The owner.
    ///   - cursor: The previous page's cursor (its last `createdKey`), or `nil`.
    ///   - limit: The most jobs to return.
    /// - Returns: The page; corrupt items are skipped.
    /// - Throws: `ExportError.Code.invalidRequest` for a bad limit or cursor.
    public func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        guard limit >= 1 else { throw ExportError(.invalidRequest, "The page limit must be at least 1") }
        var condition = "#o = :o"
        var values: [String: JSONValue] = [":o": .s(owner.rawValue)]
        if let cursor {
            guard cursor.token.count > 17, cursor.token.dropFirst(16).first == "#" else {
                throw ExportError(.invalidRequest, "Malformed job list cursor")
            }
            condition += " AND #c < :c"
            values[":c"] = .s(cursor.token)
        }
        var items: [JSONValue] = []
        var start: JSONValue?
        repeat {
            var request: [String: JSONValue] = [
                "TableName": .string(tableName), "IndexName": .string(Self.ownerIndex),
                "KeyConditionExpression": .string(condition),
                "ExpressionAttributeNames": cursor == nil ? ["#o": "owner"] : ["#o": "owner", "#c": "createdKey"],
                "ExpressionAttributeValues": .object(values), "ScanIndexForward": false,
                "Limit": .number(Double(limit + 1 - items.count)),
            ]
            if let start { request["ExclusiveStartKey"] = start }
            let result = try await call("Query", .object(request))
            items += result["Items"]?.arrayValue ?? []
            start = result["LastEvaluatedKey"]
        } while items.count <= limit && start != nil
        let page = Array(items.prefix(limit))
        let next = items.count > limit ? page.last?["createdKey"]?["S"]?.stringValue.map(PageCursor.init) : nil
        return Page(items: page.compactMap { try? Self.decodeJob($0) }, next: next)
    }

    /// Finds jobs in `states` not updated since `updatedBefore`, with a filtered `Scan` (reads the
    /// whole table).
    ///
    /// - Parameters:
    ///   - states: The states to look for.
    ///   - updatedBefore: Only jobs last updated before this.
    ///   - limit: The most jobs to return.
    /// - Returns: The jobs; corrupt items are skipped.
    /// - Throws: `ExportError` when DynamoDB fails.
    public func stale(in states: Set<JobState>, updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        guard !states.isEmpty, limit > 0 else { return [] }
        var values: [String: JSONValue] = [":job": .s("job"), ":t": .n(Self.number(updatedBefore.timeIntervalSince1970))]
        var names: [String] = []
        for (index, state) in states.sorted(by: { $0.rawValue < $1.rawValue }).enumerated() {
            values[":s\(index)"] = .s(state.rawValue)
            names.append(":s\(index)")
        }
        let filter = "#k = :job AND #u < :t AND #s IN (\(names.joined(separator: ", ")))"
        return try await scan(filter: filter, names: ["#k": "kind", "#u": "updatedAt", "#s": "state"], values: values, limit: limit)
    }

    /// Finds ended jobs whose notification is pending, last updated before `updatedBefore`: a `Scan`
    /// filtered on state and time, then on the record's notification flag.
    ///
    /// - Parameters:
    ///   - updatedBefore: Only jobs last updated before this.
    ///   - limit: The most jobs to return.
    /// - Returns: The jobs; corrupt items are skipped.
    /// - Throws: `ExportError` when DynamoDB fails.
    public func unnotified(updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        guard limit > 0 else { return [] }
        return try await scan(
            filter: "#k = :job AND #u < :t AND #s IN (:succeeded, :failed)", names: ["#k": "kind", "#u": "updatedAt", "#s": "state"],
            values: [
                ":job": .s("job"), ":t": .n(Self.number(updatedBefore.timeIntervalSince1970)),
                ":succeeded": .s(JobState.succeeded.rawValue), ":failed": .s(JobState.failed.rawValue),
            ],
            limit: limit, where: \.notificationPending)
    }

    /// Finds jobs whose `expiresAt` has passed, with a filtered `Scan`; changes nothing.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - limit: The most jobs to return.
    /// - Returns: The expired jobs.
    /// - Throws: `ExportError` when DynamoDB fails.
    public func expired(now: Date, limit: Int) async throws -> [ExportJob] {
        guard limit > 0 else { return [] }
        return try await scan(
            filter: "#k = :job AND #e <= :now", names: ["#k": "kind", "#e": "expiresAt"],
            values: [":job": .s("job"), ":now": .n(Self.number(now.timeIntervalSince1970))], limit: limit)
    }

    /// Deletes a job with a `DeleteItem` conditioned on its version, then releases its unique key; a
    /// job already gone (TTL, or this delete's retry after a lost response) is deleted.
    ///
    /// - Parameters:
    ///   - job: The job as read.
    /// - Throws: `ExportError.Code.versionConflict` when the stored version differs.
    public func delete(_ job: ExportJob) async throws {
        do {
            _ = try await call("DeleteItem", [
                "TableName": .string(tableName), "Key": ["pk": .s("job#\(job.id)")],
                "ConditionExpression": "attribute_not_exists(pk) OR #v = :v", "ExpressionAttributeNames": ["#v": "version"],
                "ExpressionAttributeValues": [":v": .n(String(job.version))],
            ])
        } catch let error as ExportError where error.code == .versionConflict {
            throw ExportError(.versionConflict, "job \(job.id) changed since it was read", cause: error)
        }
        if let key = job.uniqueKey { try await releaseKey(key, heldBy: job.id) }
    }

    func scan(
        filter: String, names: [String: JSONValue], values: [String: JSONValue], limit: Int, where predicate: (ExportJob) -> Bool = { _ in true }
    ) async throws -> [ExportJob] {
        var jobs: [ExportJob] = []
        var start: JSONValue?
        repeat {
            var request: [String: JSONValue] = [
                "TableName": .string(tableName), "FilterExpression": .string(filter),
                "ExpressionAttributeNames": .object(names), "ExpressionAttributeValues": .object(values),
                "ConsistentRead": true,
            ]
            if let start { request["ExclusiveStartKey"] = start }
            let result = try await call("Scan", .object(request))
            for item in result["Items"]?.arrayValue ?? [] {
                // A corrupt item is skipped, as the port says; get(_:) reports it as corruptData.
                if let job = try? Self.decodeJob(item), predicate(job) { jobs.append(job) }
            }
            start = result["LastEvaluatedKey"]
        } while jobs.count < limit && start != nil
        return Array(jobs.prefix(limit))
    }
}
