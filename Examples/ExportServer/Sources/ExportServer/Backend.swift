import ExportAdapters
import ExportCore
import ExportHTTPAPI
import ExportPostgres
import Logging
import Foundation
import PostgresNIO
import PostgresNIOPort
import ServiceLifecycle

// Every line that wires the library lives in this file: the ports of one backend, the service, the
// worker, the reconciler, the scheduler and the HTTP API handler built from them, and the three
// ServiceLifecycle adapters. The rest of the server talks to `Backend` only.

/// The export feature of this host, built on one backend (the file system, AWS or PostgreSQL).
struct Backend: Sendable {
    /// Answers `/api/v1/...` (and serves the signed download links of the file-system backend).
    let api: ExportAPIHandler
    /// The job store, read by the queue gauges.
    let jobs: any JobStore
    /// The queue, read for the dead-letter gauge.
    let queue: any Queue
    /// The worker, the reconciler and (when the backend keeps schedules) the scheduler, as services of
    /// the host's ServiceGroup.
    let services: [any Service]
    /// What the server prints at startup: where the data lives.
    let notes: [String]

    struct Settings: Sendable {
        var dataDirectory: URL
        var publicURL: URL
        var aws: AWSSettings?
        var postgres: PostgresSettings?
        var source: any MembershipSource
        var workers: Int
        var shutdownGracePeriod: Duration
        var visibilityTimeout: Duration
        var heartbeatInterval: Duration
        var pageSize: Int
        var rateLimit: ExportService.RateLimit?
        /// How often the scheduler looks for due schedules.
        var schedulerInterval: Duration
    }

    struct AWSSettings: Sendable {
        var endpoint: URL?
        var region: String
        var bucket = "membership-exports"
        var queue = "membership-exports"
        var table = "membership-exports"
        var sender = "exports@example.com"
    }

    struct PostgresSettings: Sendable {
        var databaseURL: String
        /// The demo users whose memberships are seeded, and how many each.
        var users: [String]
        var rows: Int
        var pageDelay: Duration
        var brokenUsers: Set<String>
    }

    /// The base path of the HTTP API.
    static let basePath = "/api/v1"

    static func make(_ settings: Settings, observer: any ExportObserver, onCorruptFile: @escaping @Sendable (String) -> Void) async throws -> Backend {
        var ports: ExportPorts
        var signedDownloads: SignedDownloads?
        var notes: [String] = []
        let sender = try EmailAddress(validating: settings.aws?.sender ?? "exports@example.com")
        var source = settings.source
        var wakeUps: PostgresWakeUps?
        if let postgres = settings.postgres {
            // Jobs, queue, ledger, e-mail outbox and memberships in one database; files on disk.
            let client = PostgresClient(configuration: try PostgresHost.configuration(url: postgres.databaseURL))
            Task { await client.run() }  // the pool lives as long as the process: the worker drains on it at shutdown
            let database = PostgresNIODatabase(client: client)
            let filesDirectory = settings.dataDirectory.appendingPathComponent("files", isDirectory: true)
            try FileManager.default.createDirectory(at: filesDirectory, withIntermediateDirectories: true)
            let files = try FileBlobStore(
                configuration: .init(
                    directory: filesDirectory, linkSecret: try LinkSecretFile.loadOrCreate(root: settings.dataDirectory),
                    linkBaseURL: settings.publicURL.appendingPathComponent(String((basePath + "/downloads").dropFirst()))))
            let schema = try PostgresSchema()
            // Workers wait on LISTEN for new messages (one pooled connection), polling once a second besides.
            wakeUps = PostgresWakeUps(schema: schema, listener: PostgresNIOListener(client: client))
            let backend = try PostgresBackend(
                database: database, blobStore: files, notifier: PostgresOutboxNotifier(database: database, schema: schema, clock: SystemClock()),
                schema: schema, observer: observer, wakeUps: wakeUps)
            let applied = try await backend.migrate()
            try await PostgresOutboxNotifier.createTable(on: database)
            try await PostgresHost.seedMemberships(users: postgres.users, rows: postgres.rows, on: database)
            source = PacedMembershipSource(
                base: try SQLMembershipSource(executor: database, mapping: PostgresHost.mapping), pageDelay: postgres.pageDelay,
                brokenUsers: postgres.brokenUsers)
            ports = backend.ports
            signedDownloads = SignedDownloads(files)
            notes.append(
                "postgres backend on \(client.configurationDescription(postgres.databaseURL)) (schema migrations applied now: \(applied)); files in \(filesDirectory.path); e-mails in table demo_outbox")
        } else if let aws = settings.aws {
            let configuration = AWSConfiguration(
                credentials: try AWSCredentials.fromEnvironment(ProcessInfo.processInfo.environment), region: aws.region, endpoint: aws.endpoint)
            let queues = try await SQSQueue.createQueues(named: aws.queue, aws: configuration)
            let backend = try AWSBackend(
                aws: configuration, table: aws.table, files: .init(bucket: aws.bucket), queue: queues, sender: sender, observer: observer)
            try await backend.jobStore.createTable()
            try await backend.blobStore.createBucket()
            try await backend.notifier.createIdentity(aws.sender)
            ports = backend.ports
            notes.append("aws backend: region \(aws.region), table \(aws.table), queue \(aws.queue), bucket \(aws.bucket)\(aws.endpoint.map { " at \($0)" } ?? "")")
        } else {
            let corruptFiles = ClosureObserver { event in
                if event.name == .corruptRecord { onCorruptFile("\(event)") }
            }
            let files = try FileSystemBackend(
                directory: settings.dataDirectory, linkSecret: try LinkSecretFile.loadOrCreate(root: settings.dataDirectory),
                linkBaseURL: settings.publicURL.appendingPathComponent(String((basePath + "/downloads").dropFirst())),
                from: sender, observer: FanOutObserver([observer, corruptFiles]))
            ports = files.ports
            signedDownloads = SignedDownloads(files.blobStore)
            notes.append("file-system backend in \(settings.dataDirectory.path); e-mails in \(files.notifier.outboxDirectory.path)")
        }

        // "Ready" e-mails carry the stable address of this host's download route: each click signs the
        // user in, checks the export and redirects to a link of minutes (410 once it expired or was deleted).
        ports.settings.downloadAddress = try DownloadAddress(apiBaseURL: settings.publicURL.appendingPathComponent(String(basePath.dropFirst())))
        let service = try ExportService(
            ports: ports,
            configuration: .init(
                defaultColumns: ExportColumn.standard, attributeColumns: DemoMembershipSource.attributeNames, rateLimit: settings.rateLimit))
        // The demo's stand-in for the host's user directory: every demo user's mailbox is at example.com.
        let recipient: @Sendable (UserID) async throws -> EmailAddress = { user in try EmailAddress(validating: "\(user.rawValue)@example.com") }
        let configuration = ExportAPIHandler.Configuration(basePath: basePath)
        let api =
            if let signedDownloads {
                try ExportAPIHandler(service: service, recipient: recipient, signedDownloads: signedDownloads, configuration: configuration)
            } else {
                ExportAPIHandler(service: service, recipient: recipient, configuration: configuration)
            }

        let workerConfiguration = ExportWorker.Configuration(
            concurrency: settings.workers, visibilityTimeout: settings.visibilityTimeout, heartbeatInterval: settings.heartbeatInterval,
            receiveWaitTime: settings.aws == nil && wakeUps == nil ? .zero : .seconds(10),
            idleDelay: .milliseconds(200), pageSize: settings.pageSize, shutdownGracePeriod: settings.shutdownGracePeriod)
        let worker = try ExportWorker(ports: ports, source: source, configuration: workerConfiguration)
        let reconciler = try Reconciler(
            ports: ports, configuration: .init(requeueAfter: settings.visibilityTimeout * 2, abandonedWriteAge: settings.visibilityTimeout * 4))
        // Shut down in reverse order: the scheduler stops making runs before the worker drains.
        var services: [any Service] = [
            ReconcilerService(reconciler: reconciler, interval: settings.visibilityTimeout), WorkerService(worker: worker),
        ]
        if let wakeUps {
            // First in the group, so it stops last: the draining worker still gets its wake-ups.
            services.insert(WakeUpService(wakeUps: wakeUps, logger: Logger(label: "export-server.wake-ups")), at: 0)
            notes.append("queue wake-ups: LISTEN \(wakeUps.channel), polling every \(wakeUps.fallbackPollInterval) besides")
        }
        if ports.scheduleStore != nil {
            // The file-system and AWS ports carry a schedule store: every server process may run a
            // scheduler on it, each occurrence still becomes one export.
            let scheduler = try ExportScheduler(ports: ports)
            services.append(SchedulerService(scheduler: scheduler, interval: settings.schedulerInterval))
            notes.append("schedules: the scheduler looks for due schedules every \(settings.schedulerInterval)")
        } else {
            notes.append("schedules: not offered by this backend (/api/v1/schedules answers 404)")
        }
        return Backend(api: api, jobs: ports.jobStore, queue: ports.queue, services: services, notes: notes)
    }
}

/// Runs an ``ExportWorker`` in a ServiceGroup: a graceful shutdown (SIGTERM) stops receiving and lets
/// running exports finish within the worker's grace period, then hands the rest back to the queue;
/// cancellation hands them back at once. The whole adapter is the one line of `run()`.
struct WorkerService: Service {
    let worker: ExportWorker
    func run() async throws { try await worker.run(gracefulShutdown: { try? await gracefulShutdown() }) }
}

/// Listens for the Postgres queue's notifications until the ServiceGroup shuts down; a lost connection is
/// logged and listened again a second later (receives poll meanwhile).
struct WakeUpService: Service {
    let wakeUps: PostgresWakeUps
    let logger: Logger
    func run() async throws {
        await cancelWhenGracefulShutdown {
            await wakeUps.run { [logger] error in logger.warning("LISTEN failed; polling until it is back", metadata: ["error": "\(error)"]) }
        }
    }
}

/// Runs the ``Reconciler``'s periodic pass until the ServiceGroup shuts down.
struct ReconcilerService: Service {
    let reconciler: Reconciler
    let interval: Duration
    func run() async throws { try await reconciler.run(every: interval, gracefulShutdown: { try? await gracefulShutdown() }) }
}

/// Runs the ``ExportScheduler``'s passes until the ServiceGroup shuts down: due occurrences become
/// ordinary exports, which the worker runs.
struct SchedulerService: Service {
    let scheduler: ExportScheduler
    let interval: Duration
    func run() async throws { try await scheduler.run(every: interval, gracefulShutdown: { try? await gracefulShutdown() }) }
}

extension PostgresClient {
    /// The database URL without its password, for the startup note.
    func configurationDescription(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "?" }
        if components.password != nil { components.password = "***" }
        return components.string ?? "?"
    }
}
