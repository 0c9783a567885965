import ExportPostgres
import Logging
import PostgresNIO

// docs:begin postgres-port
/// ExportPostgres's SQL port on postgres-nio: the whole implementation a host writes.
public struct PostgresNIODatabase: ExportSQLDatabase {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "export-postgres")) {
        self.client = client
        self.logger = logger
    }

    public func execute(_ statement: ExportSQLStatement) async throws -> [ExportSQLRow] {
        try await client.withConnection { try await Self.run(statement, on: $0, logger) }
    }

    public func withTransaction<Result: Sendable>(_ body: (any ExportSQLExecutor) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { try await body(Connection(connection: $0, logger: logger)) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error  // the body's own error, as the port promises
        }
    }

    /// One connection, inside the transaction `withTransaction` opened.
    public struct Connection: ExportSQLExecutor {
        let connection: PostgresConnection
        let logger: Logger
        public func execute(_ statement: ExportSQLStatement) async throws -> [ExportSQLRow] {
            try await PostgresNIODatabase.run(statement, on: connection, logger)
        }
    }

    static func run(_ statement: ExportSQLStatement, on connection: PostgresConnection, _ logger: Logger) async throws -> [ExportSQLRow] {
        var bindings = PostgresBindings(capacity: statement.bindings.count)
        for value in statement.bindings { bindings.append(value) }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: statement.sql, binds: bindings), logger: logger)
        var result: [ExportSQLRow] = []
        for try await row in rows { result.append(ExportSQLRow(try row.map { try $0.decode(String?.self) })) }
        return result
    }
}
// docs:end postgres-port
