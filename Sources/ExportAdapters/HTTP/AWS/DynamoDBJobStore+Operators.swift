import ExportCore
import Foundation

extension DynamoDBJobStore {
    /// Lists jobs across owners, oldest first (by creation time, then id), for operators.
    ///
    /// A `Scan` of the whole table filtered on the item kind and the states, sorted in memory, for
    /// each page: DynamoDB has no order across partitions without an index, and an operator's listing
    /// is rare. It reads (and is billed for) the whole table per page, which suits thousands of jobs;
    /// for millions, add a global secondary index with a constant hash key and `createdKey` as its
    /// range key.
    ///
    /// - Parameters:
    ///   - filter: Which states and ages.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most jobs to return (at least 1).
    /// - Returns: The page; corrupt items are skipped.
    /// - Throws: `ExportError.Code.invalidRequest` for a cursor this store did not make; DynamoDB's errors.
    public func jobs(matching filter: JobFilter, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        if let cursor { _ = try JobPosition(cursor) }  // a bad cursor is refused before the scan
        if let states = filter.states, states.isEmpty { return Page(items: [], next: nil) }
        var values: [String: JSONValue] = [":job": .s("job")]
        var expression = "#k = :job"
        var names: [String: JSONValue] = ["#k": "kind"]
        if let states = filter.states {
            var placeholders: [String] = []
            for (index, state) in states.sorted(by: { $0.rawValue < $1.rawValue }).enumerated() {
                values[":s\(index)"] = .s(state.rawValue)
                placeholders.append(":s\(index)")
            }
            expression += " AND #s IN (\(placeholders.joined(separator: ", ")))"
            names["#s"] = "state"
        }
        let candidates = try await scan(filter: expression, names: names, values: values, limit: Int.max)
        return try JobPosition.page(of: candidates, matching: filter, after: cursor, limit: max(1, limit))
    }
}

/// A `WorkerControlStore` in the jobs' DynamoDB table: one item, `pk = "control#workers"`,
/// `kind = "control"`, `control` (the switch as JSON). Reads are strongly consistent, so every
/// process sees the last write; writes are an unconditional `PutItem` (the last one wins). The job
/// scans filter on `kind = "job"` and never see it.
public struct DynamoDBWorkerControlStore: WorkerControlStore {
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

    /// Reads the switch with a strongly consistent read.
    ///
    /// - Returns: The stored switch, or `WorkerControl()` when the item does not exist.
    /// - Throws: `ExportError.Code.corruptData` for an item that cannot be decoded; DynamoDB's errors.
    public func workerControl() async throws -> WorkerControl {
        let result = try await call("GetItem", [
            "TableName": .string(tableName), "Key": ["pk": .s("control#workers")], "ConsistentRead": true,
        ])
        guard let item = result["Item"] else { return WorkerControl() }
        guard let json = item["control"]?["S"]?.stringValue else {
            throw ExportError(.corruptData, "the worker control item of \(tableName) has no control attribute")
        }
        do {
            return try RFC3339.recordDecoder().decode(WorkerControl.self, from: Data(json.utf8))
        } catch {
            throw ExportError(.corruptData, "the worker control item of \(tableName) cannot be decoded", cause: error)
        }
    }

    /// Replaces the switch.
    ///
    /// - Parameters:
    ///   - control: The new switch.
    /// - Throws: DynamoDB's errors.
    public func setWorkerControl(_ control: WorkerControl) async throws {
        let json: String
        do {
            json = String(decoding: try RFC3339.recordEncoder().encode(control), as: UTF8.self)
        } catch {
            throw ExportError(.encoding, "the worker control record cannot be encoded: \(error)", cause: error)
        }
        _ = try await call("PutItem", [
            "TableName": .string(tableName),
            "Item": ["pk": .s("control#workers"), "kind": .s("control"), "control": .s(json)],
        ])
    }

    private func call(_ operation: String, _ body: JSONValue) async throws -> JSONValue {
        try await client.json(target: "DynamoDB_20120810.\(operation)", body)
    }
}
