import ExportCore
import Foundation

/// The job store, the queue and the notification ledger on one PostgreSQL database, with the host's
/// blob store and notifier, as one `ExportPorts` value.
///
/// ```swift
/// let backend = try PostgresBackend(database: database, blobStore: files, notifier: mailer)
/// try await backend.migrate()
/// let service = try ExportService(ports: backend.ports)
/// let worker = try ExportWorker(ports: backend.ports, source: SQLMembershipSource(executor: database))
/// // In the host's own transaction: the export exists if and only if the transaction commits.
/// try await database.withTransaction { transaction in
///     try await changePlan(of: user, in: transaction)
///     return try await service.request(request, in: transaction)
/// }
/// ```
public struct PostgresBackend: Sendable {
    /// The database.
    public let database: any ExportSQLDatabase
    /// The table names.
    public let schema: PostgresSchema
    /// Jobs, in `<prefix>jobs`.
    public let jobStore: PostgresJobStore
    /// The queue, in `<prefix>queue` and `<prefix>dead_letters`.
    public let queue: PostgresQueue
    /// Sent notifications, in `<prefix>notifications`, for a notifier that needs a ledger.
    public let ledger: PostgresNotificationLedger
    /// Schedules, in `<prefix>schedules`.
    public let scheduleStore: PostgresScheduleStore
    /// The workers' pause switch, in `<prefix>worker_control`.
    public let workerControl: PostgresWorkerControlStore
    /// The queue's `LISTEN`/`NOTIFY` wake-ups, if any; run ``PostgresWakeUps/run(retryAfter:onFailure:)``
    /// beside the worker.
    public let wakeUps: PostgresWakeUps?
    /// The ports, for `ExportService`, `ExportWorker` and `Reconciler`.
    public let ports: ExportPorts

    /// Creates the adapters; call ``migrate()`` once before use.
    ///
    /// - Parameters:
    ///   - database: The host's database port.
    ///   - blobStore: Where export files go (files are not kept in PostgreSQL).
    ///   - notifier: How users are told.
    ///   - schema: The table names; `export_…` by default.
    ///   - queueName: The queue's name in the shared queue table; `exports` by default.
    ///   - clock: The clock of every part; the system clock by default.
    ///   - observer: Receives every event.
    ///   - settings: The shared settings.
    ///   - wakeUps: `LISTEN`/`NOTIFY` wake-ups for the queue, made for the same `schema`; `nil` to poll only.
    public init(
        database: any ExportSQLDatabase, blobStore: any BlobStore, notifier: any Notifier, schema: PostgresSchema? = nil,
        queueName: String = "exports", clock: any ExportClock = SystemClock(), observer: any ExportObserver = NoObserver(),
        settings: ExportSettings = ExportSettings(), wakeUps: PostgresWakeUps? = nil
    ) throws(ExportError) {
        let tables: PostgresSchema
        if let schema { tables = schema } else { tables = try PostgresSchema() }
        if let wakeUps, wakeUps.channel != tables.prefix + "queue" {
            throw ExportError(
                .configuration, "the wake-ups listen on \(wakeUps.channel), but the queue's tables start with \(tables.prefix): make them with the same schema")
        }
        self.wakeUps = wakeUps
        self.database = database
        self.schema = tables
        // Linked: the store records a job and queues its message in one statement.
        let link = PostgresBackendLink()
        var store = PostgresJobStore(executor: database, schema: tables)
        store.link = link
        jobStore = store
        var queue = PostgresQueue(executor: database, schema: tables, name: queueName, clock: clock, wakeUps: wakeUps, readsJobs: true)
        queue.link = link
        self.queue = queue
        ledger = PostgresNotificationLedger(executor: database, schema: tables)
        scheduleStore = PostgresScheduleStore(executor: database, schema: tables)
        workerControl = PostgresWorkerControlStore(executor: database, schema: tables)
        ports = ExportPorts(
            jobStore: jobStore, queue: queue, blobStore: blobStore, notifier: notifier, clock: clock, observer: observer, settings: settings,
            scheduleStore: scheduleStore, workerControl: workerControl)
    }

    /// Applies the schema migrations the database does not have yet (safe to call from every process at
    /// startup).
    ///
    /// - Returns: The versions applied.
    /// - Throws: `ExportError` when a migration fails.
    @discardableResult
    public func migrate() async throws -> [Int] { try await schema.migrate(database) }
}

/// Ties a `PostgresBackend`'s job store to its queue (same database, same schema), so the store may
/// queue a new job's message in the statement that records the job.
final class PostgresBackendLink: Sendable {}
