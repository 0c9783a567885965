import ExportCore
import Foundation

/// A `JobStore` in a PostgreSQL table: each job is a row holding its record as a JSON document (the
/// RFC 3339 form every adapter writes) beside the columns the queries filter on.
///
/// Create is one `INSERT … ON CONFLICT DO NOTHING` against the primary key and a partial unique index on
/// the unique key of live jobs, so concurrent creates with one key have one winner in any number of
/// processes. Update is a compare-and-swap on the `version` column in one statement. Owner, id, creation
/// time and unique key are kept from the stored record whatever the update carries.
///
/// Inside `ExportService.request(_:in:)` its statements run in the host's transaction.
public struct PostgresJobStore: EnqueueingJobStore, AcknowledgingJobStore {
    let session: SQLSession
    let schema: PostgresSchema
    /// Set by `PostgresBackend` on its store and queue: the store records a job and queues its message
    /// in one statement only on a queue with the same link (the same database and schema).
    var link: PostgresBackendLink?

    /// Creates the store; run ``PostgresSchema/migrate(_:)`` once before using it.
    ///
    /// - Parameters:
    ///   - executor: Where its statements run: the host's database, or one transaction.
    ///   - schema: The table names.
    public init(executor: any ExportSQLExecutor, schema: PostgresSchema) {
        session = SQLSession(executor: executor)
        self.schema = schema
    }

    /// Stores a new job, or returns the job that already holds its id or unique key.
    ///
    /// - Parameters:
    ///   - job: The job, with version 0.
    /// - Returns: `.created` with the stored job (version 1) or `.existing` with the job that won.
    /// - Throws: `ExportError` when the database fails.
    public func create(_ job: ExportJob) async throws -> JobCreation {
        try await insert(job, queueingOn: nil)
    }

    /// Stores a new job and queues its message in one statement, when `queue` is the `PostgresQueue`
    /// of the same `PostgresBackend`; or returns the job that already holds its id or unique key.
    ///
    /// - Parameters:
    ///   - job: The job, with version 0.
    ///   - message: Its message (for `job`), visible at once.
    ///   - queue: The queue.
    /// - Returns: `nil` when `queue` is not this backend's queue or `message` is another job's (nothing
    ///   was done); `.created` with the stored job (version 1, its message queued); `.existing` with the
    ///   job that won (nothing queued).
    /// - Throws: `ExportError` when the database fails; nothing was stored then.
    public func create(_ job: ExportJob, enqueueing message: QueueMessage, on queue: any Queue) async throws -> JobCreation? {
        guard let queue = queue as? PostgresQueue, let link, queue.link === link, message.jobID == job.id else { return nil }
        return try await insert(job, queueingOn: queue)
    }

    private func insert(_ job: ExportJob, queueingOn queue: PostgresQueue?) async throws -> JobCreation {
        var stored = job
        stored.version = 1
        let columns = try Self.columns(stored)
        let insert = """
            INSERT INTO \(schema.jobs) (id, owner, state, terminal, notified, unique_key, created_at, updated_at, expires_at, version, document)
            VALUES ($1, $2, $3, $4::boolean, $5::boolean, $6, $7::timestamptz, $8::timestamptz, $9::timestamptz, 1, $10::jsonb)
            ON CONFLICT DO NOTHING
            """
        let bindings = [job.id.rawValue, job.owner.rawValue] + columns
        for _ in 0..<8 {
            let inserted: [ExportSQLRow]
            if let queue {
                let (sql, all) = try queue.enqueueing(afterInsert: insert, bindings)
                inserted = try await session.run(sql, all)
            } else {
                inserted = try await session.run(insert + " RETURNING 'created'", bindings)
            }
            if !inserted.isEmpty { return .created(stored) }
            if let existing = try await get(job.id) { return .existing(existing) }
            if let key = job.uniqueKey {
                let holders = try await session.run(
                    "SELECT id, document::text FROM \(schema.jobs) WHERE unique_key = $1 AND NOT terminal", [key])
                if let holder = holders.first { return .existing(try decode(holder[1], id: holder[0] ?? "?")) }
            }
            // The conflicting job ended or was deleted between the insert and the reads: try again.
        }
        throw ExportError(.versionConflict, "job \(job.id) could not be created: its id or key kept changing hands")
    }

    /// Reads a job.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    /// - Returns: The job, or `nil` when there is none.
    /// - Throws: `ExportError.Code.corruptData` when its document cannot be decoded.
    public func get(_ id: JobID) async throws -> ExportJob? {
        let rows = try await session.run("SELECT document::text FROM \(schema.jobs) WHERE id = $1", [id.rawValue])
        guard let row = rows.first else { return nil }
        return try decode(row[0], id: id.rawValue)
    }

    /// Replaces a job if its stored version is the given one.
    ///
    /// - Parameters:
    ///   - job: The new content; its version is the version that was read.
    /// - Returns: The stored job with its new version.
    /// - Throws: `ExportError.Code.versionConflict` or `ExportError.Code.notFound`.
    public func update(_ job: ExportJob) async throws -> ExportJob {
        let (sql, bindings) = try updating(job, when: "")
        let rows = try await session.run(sql + " RETURNING document::text", bindings)
        if let row = rows.first { return try decode(row[0], id: job.id.rawValue) }
        throw try await conflict(job)
    }

    /// Stores `job` (compare-and-swap on its version) and acknowledges `receipt` in one statement,
    /// both or neither, when `queue` is this store's `PostgresBackend`'s; `nil` (nothing done) for
    /// another queue.
    ///
    /// The statement locks the message row while its lease is held (`FOR UPDATE`), updates the job
    /// only then, and deletes the message only when the job was updated.
    ///
    /// - Parameters:
    ///   - job: The changed job; its version is the version that was read.
    ///   - receipt: The message's lease.
    ///   - queue: The queue the caller would acknowledge on.
    /// - Returns: The stored job, or `nil` when `queue` is not linked to this store.
    /// - Throws: `ExportError.Code.leaseLost`, `.versionConflict` or `.notFound`; then nothing changed.
    public func update(_ job: ExportJob, acknowledging receipt: LeaseReceipt, on queue: any Queue) async throws -> ExportJob? {
        guard let queue = queue as? PostgresQueue, let link, queue.link === link else { return nil }
        let (id, token) = try PostgresQueue.parse(receipt)
        let (update, bindings) = try updating(job, when: " AND EXISTS (SELECT 1 FROM message)")
        let rows = try await session.run(
            """
            WITH message AS (
                SELECT id FROM \(queue.schema.queue) WHERE id = $9::bigint AND lease_token = $10 FOR UPDATE
            ),
            job AS (\(update) RETURNING document::text),
            acknowledged AS (
                DELETE FROM \(queue.schema.queue) WHERE id IN (SELECT id FROM message) AND EXISTS (SELECT 1 FROM job)
            )
            SELECT (SELECT document FROM job), (SELECT count(*) FROM message)::text
            """,
            bindings + [id, token])
        guard let row = rows.first, row.cells.count == 2 else {
            throw ExportError(.corruptData, "job \(job.id): the update-and-acknowledge statement returned no row")
        }
        if let document = row[0] { return try decode(document, id: job.id.rawValue) }
        guard row[1] == "1" else { throw PostgresQueue.lost(receipt) }
        throw try await conflict(job)
    }

    /// The compare-and-swap `UPDATE` of `job` (without `RETURNING`; `condition` joins its `WHERE`),
    /// with its bindings `$1` to `$8`. Owner, creation time and unique key stay the stored row's.
    private func updating(_ job: ExportJob, when condition: String) throws(ExportError) -> (String, [String?]) {
        var next = job
        next.version = job.version + 1
        // state, terminal, notified, unique_key (unused: kept), created_at (unused), updated_at, expires_at, document
        let columns = try Self.columns(next)
        let sql = """
            UPDATE \(schema.jobs) SET
                state = $3, terminal = $4::boolean, notified = $5::boolean, updated_at = $6::timestamptz,
                expires_at = $7::timestamptz, version = $2::bigint + 1,
                document = ($8::jsonb - 'uniqueKey') || jsonb_build_object('owner', document->'owner', 'createdAt', document->'createdAt')
                    || CASE WHEN document->'uniqueKey' IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('uniqueKey', document->'uniqueKey') END
            WHERE id = $1 AND version = $2::bigint\(condition)
            """
        return (sql, [job.id.rawValue, String(job.version), columns[0], columns[1], columns[2], columns[5], columns[6], columns[7]])
    }

    /// Why an update of `job` stored nothing: the job is gone, or at another version.
    private func conflict(_ job: ExportJob) async throws -> ExportError {
        let current = try await session.run("SELECT version::text FROM \(schema.jobs) WHERE id = $1", [job.id.rawValue])
        guard let version = current.first?[0] else { return ExportError(.notFound, "job \(job.id) does not exist") }
        return ExportError(.versionConflict, "job \(job.id) is at version \(version), not \(job.version)")
    }

    /// Lists one owner's jobs, newest first (by creation time, then id); corrupt records are skipped.
    ///
    /// - Parameters:
    ///   - owner: The owner.
    ///   - cursor: Where the previous page ended, or `nil`.
    ///   - limit: The most jobs to return (1 to 1,000; other values are clamped).
    /// - Returns: The page.
    /// - Throws: `ExportError.Code.invalidRequest` for a cursor this store did not make.
    public func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        let limit = max(1, min(limit, 1000))
        var after: (String, String)?
        if let cursor {
            let parts = cursor.token.split(separator: "|", maxSplits: 1).map(String.init)
            guard parts.count == 2, (try? RFC3339.parse(parts[0])) != nil else {
                throw ExportError(.invalidRequest, "the cursor \(String(reflecting: cursor.token)) is not a job-listing cursor")
            }
            after = (parts[0], parts[1])
        }
        let rows = try await session.run(
            """
            SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), document::text
            FROM \(schema.jobs)
            WHERE owner = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3))
            ORDER BY created_at DESC, id DESC LIMIT $4::integer
            """,
            [owner.rawValue, after?.0, after?.1, String(limit + 1)])
        let page = rows.prefix(limit)
        var items: [ExportJob] = []
        for row in page {
            if let job = try? decode(row[2], id: row[0] ?? "?") { items.append(job) }  // corrupt rows: skipped, as the port says
        }
        let next = rows.count > limit ? page.last.map { PageCursor("\($0[1] ?? "")|\($0[0] ?? "")") } : nil
        return Page(items: items, next: next)
    }

    /// Lists jobs across owners, oldest first (by creation time, then id), for operators: one indexed
    /// query on `(created_at, id)` with the state and age in the `WHERE` clause.
    ///
    /// - Parameters:
    ///   - filter: Which states and ages.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most jobs to return (1 to 1,000).
    /// - Returns: The page (corrupt records skipped).
    /// - Throws: `ExportError.Code.invalidRequest` for a cursor this store did not make; the database's errors.
    public func jobs(matching filter: JobFilter, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        let limit = max(1, min(limit, 1000))
        var after: (String, String)?
        if let cursor {
            let parts = cursor.token.split(separator: "|", maxSplits: 1).map(String.init)
            guard parts.count == 2, (try? RFC3339.parse(parts[0])) != nil else {
                throw ExportError(.invalidRequest, "the cursor \(String(reflecting: cursor.token)) is not a job-listing cursor")
            }
            after = (parts[0], parts[1])
        }
        if let states = filter.states, states.isEmpty { return Page(items: [], next: nil) }
        let states = filter.states.map { "{" + $0.map(\.rawValue).sorted().joined(separator: ",") + "}" }
        let before = try filter.createdBefore.map { date throws(ExportError) in try SQLSession.text(date) }
        let rows = try await session.run(
            """
            SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), document::text
            FROM \(schema.jobs)
            WHERE ($1::text[] IS NULL OR state = ANY($1::text[])) AND ($2::timestamptz IS NULL OR created_at < $2::timestamptz)
              AND ($3::timestamptz IS NULL OR (created_at, id) > ($3::timestamptz, $4))
            ORDER BY created_at, id LIMIT $5::integer
            """,
            [states, before, after?.0, after?.1, String(limit + 1)])
        let page = rows.prefix(limit)
        var items: [ExportJob] = []
        for row in page {
            if let job = try? decode(row[2], id: row[0] ?? "?") { items.append(job) }  // corrupt rows: skipped, as the port says
        }
        let next = rows.count > limit ? page.last.map { PageCursor("\($0[1] ?? "")|\($0[0] ?? "")") } : nil
        return Page(items: items, next: next)
    }

    /// Finds jobs in the given states not updated since `updatedBefore`.
    ///
    /// - Parameters:
    ///   - states: The states.
    ///   - updatedBefore: The cut-off.
    ///   - limit: The most jobs to return.
    /// - Returns: The jobs (corrupt records skipped).
    /// - Throws: `ExportError` when the database fails.
    public func stale(in states: Set<JobState>, updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        guard !states.isEmpty, limit >= 1 else { return [] }
        let rows = try await session.run(
            "SELECT id, document::text FROM \(schema.jobs) WHERE state = ANY($1::text[]) AND updated_at < $2::timestamptz LIMIT $3::integer",
            ["{" + states.map(\.rawValue).sorted().joined(separator: ",") + "}", try SQLSession.text(updatedBefore), String(min(limit, 10_000))])
        return rows.compactMap { try? decode($0[1], id: $0[0] ?? "?") }
    }

    /// Finds ended jobs whose notification is pending (succeeded or failed, not notified), last
    /// updated before `updatedBefore`.
    ///
    /// - Parameters:
    ///   - updatedBefore: The cut-off.
    ///   - limit: The most jobs to return.
    /// - Returns: The jobs (corrupt records skipped).
    /// - Throws: `ExportError` when the database fails.
    public func unnotified(updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        guard limit >= 1 else { return [] }
        let rows = try await session.run(
            """
            SELECT id, document::text FROM \(schema.jobs)
            WHERE terminal AND NOT notified AND state IN ('succeeded', 'failed') AND updated_at < $1::timestamptz
            ORDER BY updated_at LIMIT $2::integer
            """,
            [try SQLSession.text(updatedBefore), String(min(limit, 10_000))])
        // A corrupt record is skipped by listings, as the port says (get(_:) reports it with its code).
        return rows.compactMap { try? decode($0[1], id: $0[0] ?? "?") }.filter(\.notificationPending)
    }

    /// Finds jobs whose expiry is at or before `now`, earliest first; changes nothing.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - limit: The most jobs to return.
    /// - Returns: The expired jobs (corrupt records skipped).
    /// - Throws: `ExportError` when the database fails.
    public func expired(now: Date, limit: Int) async throws -> [ExportJob] {
        guard limit >= 1 else { return [] }
        let rows = try await session.run(
            "SELECT id, document::text FROM \(schema.jobs) WHERE expires_at <= $1::timestamptz ORDER BY expires_at LIMIT $2::integer",
            [try SQLSession.text(now), String(min(limit, 10_000))])
        return rows.compactMap { try? decode($0[1], id: $0[0] ?? "?") }  // corrupt records: skipped, as the port says
    }

    /// Deletes a job if its stored version is the one given; a job already gone is deleted.
    ///
    /// - Parameters:
    ///   - job: The job as read.
    /// - Throws: `ExportError.Code.versionConflict` when the stored version differs.
    public func delete(_ job: ExportJob) async throws {
        let deleted = try await session.run(
            "DELETE FROM \(schema.jobs) WHERE id = $1 AND version = $2::bigint RETURNING id", [job.id.rawValue, String(job.version)])
        guard deleted.isEmpty else { return }
        let current = try await session.run("SELECT version::text FROM \(schema.jobs) WHERE id = $1", [job.id.rawValue])
        if let version = current.first?[0] {
            throw ExportError(.versionConflict, "job \(job.id) is at version \(version), not \(job.version)")
        }
    }

    // MARK: Internals

    /// state, terminal, notified, unique_key, created_at, updated_at, expires_at, document.
    static func columns(_ job: ExportJob) throws(ExportError) -> [String?] {
        let document: String
        do {
            document = String(decoding: try RFC3339.recordEncoder().encode(job), as: UTF8.self)
        } catch {
            throw ExportError(.encoding, "job \(job.id) cannot be encoded: \(error)", cause: error)
        }
        return [
            job.state.rawValue, job.state.isTerminal ? "true" : "false", job.lifecycle.notified ? "true" : "false", job.uniqueKey,
            try SQLSession.text(job.createdAt), try SQLSession.text(job.updatedAt), try job.expiresAt.map(SQLSession.text), document,
        ]
    }

    func decode(_ document: String?, id: String) throws(ExportError) -> ExportJob {
        try Self.decode(document, id: id, table: schema.jobs)
    }

    static func decode(_ document: String?, id: String, table: String) throws(ExportError) -> ExportJob {
        guard let document else { throw ExportError(.corruptData, "job record \(id) has no document") }
        do {
            return try RFC3339.recordDecoder().decode(ExportJob.self, from: Data(document.utf8))
        } catch {
            throw ExportError(.corruptData, "job record \(id) in \(table) cannot be decoded: \(error)", cause: error)
        }
    }
}
