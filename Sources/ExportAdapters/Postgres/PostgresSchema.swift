import ExportCore

/// The tables of the Postgres adapters, their names and their versioned migrations.
///
/// Every table name starts with ``prefix`` (`export_` by default): `export_jobs`,
/// `export_queue`, `export_dead_letters`, `export_notifications`, `export_schedules`,
/// `export_worker_control` and `export_schema_migrations`, which records the applied versions. ``migrate(_:)`` applies the missing versions in order, each in its
/// own transaction under an advisory lock, so several processes starting at once apply each version
/// exactly once and a crash mid-way leaves a version either applied or not.
public struct PostgresSchema: Hashable, Sendable {
    /// The prefix of every table and index name.
    public let prefix: String

    /// Creates the schema description.
    ///
    /// - Parameters:
    ///   - prefix: The table-name prefix: lower-case letters, digits and `_`, starting with a letter or
    ///     `_`, at most 40 characters; `export_` by default. A schema-qualified prefix is not accepted:
    ///     set the connection's `search_path` instead.
    /// - Throws: `ExportError.Code.configuration` for any other prefix.
    public init(prefix: String = "export_") throws(ExportError) {
        guard Self.isIdentifier(prefix, maximumLength: 40) else {
            throw ExportError(
                .configuration, "the table prefix \(String(reflecting: prefix)) must be lower-case letters, digits and _ (at most 40), starting with a letter or _")
        }
        self.prefix = prefix
    }

    var jobs: String { prefix + "jobs" }
    var queue: String { prefix + "queue" }
    var deadLetters: String { prefix + "dead_letters" }
    var notifications: String { prefix + "notifications" }
    var schedules: String { prefix + "schedules" }
    var workerControl: String { prefix + "worker_control" }
    var migrations: String { prefix + "schema_migrations" }

    /// The newest schema version this library knows.
    public var latestVersion: Int { migrationSteps.count }

    /// Applies every migration the database does not have yet.
    ///
    /// - Parameters:
    ///   - database: The database.
    /// - Returns: The versions applied by this call (empty when the schema was up to date).
    /// - Throws: `ExportError.Code.unsupportedVersion` when the database has a newer schema than this
    ///   library knows; `ExportError` when a statement fails.
    @discardableResult
    public func migrate(_ database: any ExportSQLDatabase) async throws -> [Int] {
        var applied: [Int] = []
        for (index, steps) in migrationSteps.enumerated() {
            let version = index + 1
            let didApply: Bool = try await database.withTransaction { transaction in
                let session = SQLSession(executor: transaction)
                // One migrator at a time per prefix; the lock ends with the transaction.
                _ = try await session.run("SELECT pg_advisory_xact_lock(hashtext($1))::text", ["membership-export:" + prefix])
                _ = try await session.run(
                    "CREATE TABLE IF NOT EXISTS \(migrations) (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
                let rows = try await session.run("SELECT coalesce(max(version), 0)::text FROM \(migrations)")
                let current = try SQLSession.int(rows.first?[0], "the schema version")
                guard current <= migrationSteps.count else {
                    throw ExportError(
                        .unsupportedVersion,
                        "the database's \(prefix) schema is at version \(current), newer than this library's \(migrationSteps.count); upgrade the library")
                }
                guard current < version else { return false }
                for step in steps { _ = try await session.run(step) }
                _ = try await session.run("INSERT INTO \(migrations) (version) VALUES ($1::integer)", [String(version)])
                return true
            }
            if didApply { applied.append(version) }
        }
        return applied
    }

    /// The migrations, oldest first; each is a list of statements run in one transaction. Append only:
    /// a released migration never changes.
    var migrationSteps: [[String]] {
        [
            [
                // Jobs: the record as the RFC 3339 JSON document every adapter writes, plus the columns
                // the queries filter and sort on. New queries are a column (or an expression index on
                // the document) and a WHERE clause.
                """
                CREATE TABLE \(jobs) (
                    id text PRIMARY KEY,
                    owner text NOT NULL,
                    state text NOT NULL,
                    terminal boolean NOT NULL,
                    notified boolean NOT NULL,
                    unique_key text,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    expires_at timestamptz,
                    version bigint NOT NULL,
                    document jsonb NOT NULL
                )
                """,
                "CREATE INDEX \(jobs)_owner ON \(jobs) (owner, created_at DESC, id DESC)",
                "CREATE INDEX \(jobs)_stale ON \(jobs) (state, updated_at) WHERE NOT terminal",
                "CREATE INDEX \(jobs)_expiry ON \(jobs) (expires_at) WHERE expires_at IS NOT NULL",
                // At most one live job per unique key; a terminal job gives its key up.
                "CREATE UNIQUE INDEX \(jobs)_unique_key ON \(jobs) (unique_key) WHERE unique_key IS NOT NULL AND NOT terminal",
                // The queue: the lease is a column (visible_at, with the current holder's token).
                """
                CREATE TABLE \(queue) (
                    id bigint PRIMARY KEY,
                    queue text NOT NULL,
                    job_id text NOT NULL,
                    visible_at timestamptz NOT NULL,
                    lease_token text,
                    receive_count integer NOT NULL DEFAULT 0,
                    enqueued_at timestamptz NOT NULL
                )
                """,
                "CREATE SEQUENCE \(queue)_ids OWNED BY \(queue).id",
                "ALTER TABLE \(queue) ALTER COLUMN id SET DEFAULT nextval('\(queue)_ids')",
                // One live message per job: enqueueing a job that has one is a no-op.
                "CREATE UNIQUE INDEX \(queue)_one_per_job ON \(queue) (queue, job_id)",
                "CREATE INDEX \(queue)_ready ON \(queue) (queue, visible_at, id)",
                // Dead letters live in their own table: the hot queue table stays small.
                """
                CREATE TABLE \(deadLetters) (
                    id bigint PRIMARY KEY,
                    queue text NOT NULL,
                    job_id text NOT NULL,
                    reason text NOT NULL,
                    receive_count integer NOT NULL,
                    enqueued_at timestamptz NOT NULL,
                    dead_lettered_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX \(deadLetters)_listing ON \(deadLetters) (queue, dead_lettered_at, id)",
                // The notification ledger of channels without idempotency keys (SES, webhooks, SMTP).
                """
                CREATE TABLE \(notifications) (
                    key text PRIMARY KEY,
                    reserved_until timestamptz,
                    sent_at timestamptz
                )
                """,
            ],
            [
                // Schedules (issue 15): the document plus what the due scan and the owner listing use.
                """
                CREATE TABLE \(schedules) (
                    id text PRIMARY KEY,
                    owner text NOT NULL,
                    paused boolean NOT NULL,
                    next_run_at timestamptz,
                    created_at timestamptz NOT NULL,
                    version bigint NOT NULL,
                    document jsonb NOT NULL
                )
                """,
                "CREATE INDEX \(schedules)_owner ON \(schedules) (owner)",
                "CREATE INDEX \(schedules)_due ON \(schedules) (next_run_at) WHERE NOT paused",
            ],
            [
                // Fenced ledger reservations: who holds one (the queue message and its delivery), so the
                // next delivery of the same message takes over a dead sender's at once; and the channel's
                // id of the sent message, kept for support.
                "ALTER TABLE \(notifications) ADD COLUMN holder_message text",
                "ALTER TABLE \(notifications) ADD COLUMN holder_delivery integer",
                "ALTER TABLE \(notifications) ADD COLUMN provider_message_id text",
            ],
            [
                // Operator controls (issue 16): the oldest-first listing across owners, and the
                // workers' pause switch (one row, `workers`).
                "CREATE INDEX \(jobs)_created ON \(jobs) (created_at, id)",
                "CREATE TABLE \(workerControl) (id text PRIMARY KEY, document jsonb NOT NULL)",
            ],
        ]
    }

    static func isIdentifier(_ text: String, maximumLength: Int) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= maximumLength else { return false }
        guard first == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
        return text.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }
}
