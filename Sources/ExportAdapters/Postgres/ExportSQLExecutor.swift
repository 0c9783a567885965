/// Runs one SQL statement on PostgreSQL: the port a host implements with the driver it already has.
///
/// The library writes every statement itself. Parameters are `$1`, `$2`… and are all bound as text (or
/// SQL `NULL`); the statements cast them (`$2::timestamptz`). Every column a statement returns is cast to
/// `text` as well, so an implementation decodes each cell as an optional string and needs no type mapping.
/// With postgres-nio that is about fifteen lines (see `Docs/Postgres.md`, and
/// `Examples/ExportServer/Sources/PostgresNIOPort`).
///
/// ## Implementation requirements
/// - **One statement, bound parameters.** Send ``ExportSQLStatement/sql`` with
///   ``ExportSQLStatement/bindings`` as parameters (never interpolated into the text), using the
///   extended protocol, and return every row in order, each cell as text or `nil` for `NULL`.
/// - **Columns by position.** Cells come in the statement's column order; every column the adapters
///   select has a distinct name, so a driver that decodes by name (sql-kit's `SQLRow`) may read
///   `allColumns` in order.
/// - **Errors propagate.** A failed statement throws; the adapters wrap what it throws as a retryable
///   `ExportError.Code.unavailable` unless it is already an `ExportError`
///   (throw one yourself for a finer code).
/// - **Transactions belong to the caller.** An executor handed out inside a transaction runs every
///   statement in that transaction; the library never sends `BEGIN`, `COMMIT` or `ROLLBACK` to it.
public protocol ExportSQLExecutor: Sendable {
    /// Runs one statement.
    ///
    /// - Parameters:
    ///   - statement: The SQL text and its text parameters.
    /// - Returns: The rows, each cell as text or `nil` for `NULL`.
    /// - Throws: What the driver throws.
    func execute(_ statement: ExportSQLStatement) async throws -> [ExportSQLRow]
}

/// A database: runs statements outside a transaction (on any pooled connection) and opens transactions.
///
/// ## Implementation requirements
/// - ``ExportSQLExecutor/execute(_:)`` runs each statement on its own (autocommit), on any connection.
/// - ``withTransaction(_:)`` runs `body` in one transaction on one connection: it commits when `body`
///   returns and rolls back when it throws, then rethrows `body`'s own error (unwrap a driver's wrapper
///   such as postgres-nio's `PostgresTransactionError`, so `ExportError` codes reach the caller).
///   postgres-nio's `PostgresClient.withTransaction` and Fluent's `Database.transaction` do the rest.
public protocol ExportSQLDatabase: ExportSQLExecutor {
    /// Runs `body` in a transaction.
    ///
    /// - Parameters:
    ///   - body: The work; every statement it runs through its executor is part of the transaction.
    /// - Returns: What `body` returns, once the transaction committed.
    /// - Throws: What `body` throws (after the rollback), or the driver's error.
    func withTransaction<Result: Sendable>(_ body: (any ExportSQLExecutor) async throws -> Result) async throws -> Result
}

/// One SQL statement with its text parameters.
public struct ExportSQLStatement: Hashable, Sendable, CustomStringConvertible {
    /// The SQL text, with parameters written `$1`, `$2`….
    public var sql: String
    /// The parameters, in order: text, or `nil` for `NULL`.
    public var bindings: [String?]

    /// Creates a statement.
    ///
    /// - Parameters:
    ///   - sql: The SQL text.
    ///   - bindings: The parameters.
    public init(_ sql: String, _ bindings: [String?] = []) {
        self.sql = sql
        self.bindings = bindings
    }

    /// The SQL text and the number of parameters (never their values, which may be personal data).
    public var description: String { "\(sql) [\(bindings.count) parameters]" }
}

/// One row of a result: its cells, in the statement's column order, as text.
public struct ExportSQLRow: Hashable, Sendable {
    /// The cells: text, or `nil` for `NULL`.
    public var cells: [String?]

    /// Creates a row.
    ///
    /// - Parameters:
    ///   - cells: The cells in column order.
    public init(_ cells: [String?]) { self.cells = cells }

    /// The cell at `index`, or `nil` for `NULL` or a column the row does not have.
    ///
    /// - Parameters:
    ///   - index: The zero-based column index.
    public subscript(_ index: Int) -> String? {
        cells.indices.contains(index) ? cells[index] : nil
    }
}
