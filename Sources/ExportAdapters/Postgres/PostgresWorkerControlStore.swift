import ExportCore
import Foundation

/// A `WorkerControlStore` in a PostgreSQL table (`<prefix>worker_control`, from schema version 4): one
/// row, `workers`, holding the switch as a JSON document. Every process on the database reads the
/// same row, so a pause reaches them all; writes are one upsert, the last one wins.
public struct PostgresWorkerControlStore: WorkerControlStore {
    let session: SQLSession
    let schema: PostgresSchema

    /// Creates the store; run ``PostgresSchema/migrate(_:)`` once before using it.
    ///
    /// - Parameters:
    ///   - executor: Runs the statements.
    ///   - schema: The table names.
    public init(executor: any ExportSQLExecutor, schema: PostgresSchema) {
        session = SQLSession(executor: executor)
        self.schema = schema
    }

    /// Reads the switch.
    ///
    /// - Returns: The stored switch, or `WorkerControl()` when the row does not exist.
    /// - Throws: `ExportError.Code.corruptData` for a document that cannot be decoded; the database's errors.
    public func workerControl() async throws -> WorkerControl {
        let rows = try await session.run("SELECT document::text FROM \(schema.workerControl) WHERE id = 'workers'")
        guard let row = rows.first else { return WorkerControl() }
        guard let document = row[0] else { throw ExportError(.corruptData, "the worker control row has no document") }
        do {
            return try RFC3339.recordDecoder().decode(WorkerControl.self, from: Data(document.utf8))
        } catch {
            throw ExportError(.corruptData, "the worker control row in \(schema.workerControl) cannot be decoded: \(error)", cause: error)
        }
    }

    /// Replaces the switch (an upsert).
    ///
    /// - Parameters:
    ///   - control: The new switch.
    /// - Throws: The database's errors.
    public func setWorkerControl(_ control: WorkerControl) async throws {
        let document: String
        do {
            document = String(decoding: try RFC3339.recordEncoder().encode(control), as: UTF8.self)
        } catch {
            throw ExportError(.encoding, "the worker control record cannot be encoded: \(error)", cause: error)
        }
        _ = try await session.run(
            """
            INSERT INTO \(schema.workerControl) (id, document) VALUES ('workers', $1::jsonb)
            ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document
            """,
            [document])
    }
}
