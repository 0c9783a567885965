import ExportCore
import Foundation

/// A `ScheduleStore` in a PostgreSQL table (`<prefix>schedules`): the schedule as the RFC 3339 JSON
/// document every adapter writes, plus the columns the due scan and the owner listing use.
///
/// Updates are a compare-and-swap on `version` in one statement, so several schedulers on one database
/// move an occurrence on once; the due scan reads `(paused, next_run_at)` by index.
public struct PostgresScheduleStore: ScheduleStore {
    let session: SQLSession
    let schema: PostgresSchema

    /// Creates the store over the host's executor (a database, or a transaction).
    ///
    /// - Parameters:
    ///   - executor: Runs the statements.
    ///   - schema: The table names.
    public init(executor: any ExportSQLExecutor, schema: PostgresSchema) {
        session = SQLSession(executor: executor)
        self.schema = schema
    }

    /// Stores a new schedule at version 1.
    ///
    /// - Parameters:
    ///   - schedule: The schedule.
    /// - Returns: The stored schedule.
    /// - Throws: `ExportError.Code.alreadyExists` for a taken id; the database's errors.
    public func create(_ schedule: ExportSchedule) async throws -> ExportSchedule {
        var stored = schedule
        stored.version = 1
        let inserted = try await session.run(
            """
            INSERT INTO \(schema.schedules) (id, owner, paused, next_run_at, created_at, version, document)
            VALUES ($1, $2, $3::boolean, $4::timestamptz, $5::timestamptz, 1, $6::jsonb)
            ON CONFLICT (id) DO NOTHING RETURNING id
            """,
            [stored.id.rawValue, stored.owner.rawValue] + (try Self.columns(stored)))
        guard !inserted.isEmpty else { throw ExportError(.alreadyExists, "schedule \(schedule.id) already exists") }
        return stored
    }

    /// Reads a schedule.
    ///
    /// - Parameters:
    ///   - id: The id.
    /// - Returns: The schedule, or `nil`.
    /// - Throws: `ExportError.Code.corruptData` for a document that cannot be decoded.
    public func get(_ id: ScheduleID) async throws -> ExportSchedule? {
        let rows = try await session.run("SELECT document::text FROM \(schema.schedules) WHERE id = $1", [id.rawValue])
        guard let row = rows.first else { return nil }
        return try decode(row[0], id: id.rawValue)
    }

    /// Replaces a schedule if its stored version is the one given; id, owner and creation time are kept.
    ///
    /// - Parameters:
    ///   - schedule: The new content with the version read.
    /// - Returns: The stored schedule, its version incremented.
    /// - Throws: `ExportError.Code.notFound` or `ExportError.Code.versionConflict`.
    public func update(_ schedule: ExportSchedule) async throws -> ExportSchedule {
        guard let current = try await get(schedule.id) else { throw ExportError(.notFound, "no schedule \(schedule.id)") }
        var next = schedule
        next.owner = current.owner
        next.createdAt = current.createdAt
        next.version = schedule.version + 1
        let columns = try Self.columns(next)
        let rows = try await session.run(
            """
            UPDATE \(schema.schedules) SET paused = $3::boolean, next_run_at = $4::timestamptz, version = $2::bigint + 1, document = $6::jsonb
            WHERE id = $1 AND version = $2::bigint AND created_at = $5::timestamptz RETURNING id
            """,
            [schedule.id.rawValue, String(schedule.version)] + columns)
        if !rows.isEmpty { return next }
        let stored = try await session.run("SELECT version::text FROM \(schema.schedules) WHERE id = $1", [schedule.id.rawValue])
        guard let version = stored.first?[0] else { throw ExportError(.notFound, "no schedule \(schedule.id)") }
        throw ExportError(.versionConflict, "schedule \(schedule.id) is at version \(version), not \(schedule.version)")
    }

    /// Deletes a schedule, at the given version when one is given.
    ///
    /// - Parameters:
    ///   - id: The id.
    ///   - version: Only at this version, or `nil`.
    /// - Returns: Whether one was deleted.
    /// - Throws: `ExportError.Code.versionConflict` for a stale version.
    public func delete(_ id: ScheduleID, version: UInt64?) async throws -> Bool {
        let rows: [ExportSQLRow]
        if let version {
            rows = try await session.run(
                "DELETE FROM \(schema.schedules) WHERE id = $1 AND version = $2::bigint RETURNING id", [id.rawValue, String(version)])
            if rows.isEmpty, try await get(id) != nil {
                throw ExportError(.versionConflict, "schedule \(id) is not at version \(version)")
            }
        } else {
            rows = try await session.run("DELETE FROM \(schema.schedules) WHERE id = $1 RETURNING id", [id.rawValue])
        }
        return !rows.isEmpty
    }

    /// Lists one owner's schedules, oldest first (the owner's rows by index, then the shared paging).
    ///
    /// - Parameters:
    ///   - owner: The owner.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most to return (at least 1).
    /// - Returns: The page; corrupt documents are skipped.
    /// - Throws: `ExportError.Code.invalidRequest` for a bad limit or cursor.
    public func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportSchedule> {
        // Corrupt records are skipped by listings, as the port says (get(_:) reports them with their code).
        let rows = try await session.run("SELECT id, document::text FROM \(schema.schedules) WHERE owner = $1", [owner.rawValue])
        return try ScheduleListing.page(rows.compactMap { try? decode($0[1], id: $0[0] ?? "?") }, after: cursor, limit: limit)
    }

    /// The unpaused schedules due at `now`, earliest first.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - limit: The most to return.
    /// - Returns: The due schedules; corrupt documents are skipped.
    /// - Throws: The database's errors.
    public func due(at now: Date, limit: Int) async throws -> [ExportSchedule] {
        guard limit >= 1 else { return [] }
        let rows = try await session.run(
            """
            SELECT id, document::text FROM \(schema.schedules)
            WHERE NOT paused AND next_run_at <= $1::timestamptz ORDER BY next_run_at, id LIMIT $2::integer
            """,
            [try SQLSession.text(now), String(min(limit, 10_000))])
        return ScheduleListing.due(rows.compactMap { try? decode($0[1], id: $0[0] ?? "?") }, at: now, limit: limit)
    }

    /// paused, next_run_at, created_at, document.
    static func columns(_ schedule: ExportSchedule) throws(ExportError) -> [String?] {
        let document: String
        do {
            document = String(decoding: try RFC3339.recordEncoder().encode(schedule), as: UTF8.self)
        } catch {
            throw ExportError(.encoding, "schedule \(schedule.id) cannot be encoded: \(error)", cause: error)
        }
        return [
            schedule.paused ? "true" : "false", try schedule.nextRunAt.map(SQLSession.text), try SQLSession.text(schedule.createdAt), document,
        ]
    }

    func decode(_ document: String?, id: String) throws(ExportError) -> ExportSchedule {
        guard let document else { throw ExportError(.corruptData, "schedule record \(id) has no document") }
        do {
            return try RFC3339.recordDecoder().decode(ExportSchedule.self, from: Data(document.utf8))
        } catch {
            throw ExportError(.corruptData, "schedule record \(id) in \(schema.schedules) cannot be decoded: \(error)", cause: error)
        }
    }
}
