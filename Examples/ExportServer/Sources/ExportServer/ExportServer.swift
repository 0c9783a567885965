import ExportCore
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// The host: one ServiceGroup with the HTTP server, the export worker, the reconciler, the scheduler
/// and the queue gauges. SIGTERM or SIGINT shuts them down in reverse order: the worker first (running exports get
/// `--shutdown-grace` to finish, the rest go back to the queue), the HTTP server last, so status polls
/// are answered while the worker drains.
struct ExportServer {
    let options: ServerCommand

    func run() async throws {
        let logger = Logger(label: "export-server")
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            "export_duration_seconds": [.milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
                .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(900)],
            "export_queue_wait_seconds": [.milliseconds(10), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30),
                .seconds(120), .seconds(600)],
        ]
        factory.valueHistogramBuckets = [
            "export_size_bytes": [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9],
            "export_rows": [10, 100, 1e3, 1e4, 1e5, 1e6, 1e7],
        ]
        // Hummingbird's MetricsMiddleware reports through the global system; the export metrics take the
        // factory explicitly.
        MetricsSystem.bootstrap(factory)

        let authentication = try DemoAuthentication(parsing: options.users)
        let publicURL = URL(string: options.publicURL ?? "http://\(options.host):\(options.port)")!
        let source = DemoMembershipSource(
            rowsPerUser: options.rows, pageDelay: .milliseconds(options.pageDelayMilliseconds),
            brokenUsers: Set(options.brokenUsers.split(separator: ",").map(String.init)))
        let environment = ProcessInfo.processInfo.environment
        let settings = Backend.Settings(
            dataDirectory: URL(fileURLWithPath: options.dataDirectory, isDirectory: true), publicURL: publicURL,
            aws: options.backend == "aws"
                ? Backend.AWSSettings(
                    endpoint: options.endpoint.flatMap(URL.init(string:)),
                    region: options.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1")
                : nil,
            postgres: options.databaseURL.map { url in
                Backend.PostgresSettings(
                    databaseURL: url, users: authentication.users.keys.sorted(), rows: options.rows,
                    pageDelay: .milliseconds(options.pageDelayMilliseconds),
                    brokenUsers: Set(options.brokenUsers.split(separator: ",").map(String.init)))
            },
            source: source, workers: options.workers, shutdownGracePeriod: .seconds(options.shutdownGrace),
            visibilityTimeout: .seconds(options.visibilityTimeout), heartbeatInterval: .milliseconds(options.heartbeatMilliseconds),
            pageSize: options.pageSize,
            rateLimit: options.rateLimit > 0 ? .init(maxRequests: options.rateLimit, per: .seconds(3600)) : nil,
            schedulerInterval: .seconds(options.scheduleInterval))
        let backend = try await Backend.make(
            settings, observer: EventBridge(logger: Logger(label: "export-server.exports"), factory: factory),
            onCorruptFile: { report in logger.error("corrupt file moved aside", metadata: ["report": "\(report)"]) })
        for note in backend.notes { logger.notice("\(note)") }

        let router = Router()
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: DemoChallengeMiddleware())
        router.add(
            middleware: ExportRoutes.Middleware(api: backend.api) { request in
                authentication.user(authorization: request.headers[.authorization])
            })
        SiteRoutes(registry: registry, jobs: backend.jobs).mount(on: router, api: backend.api)

        let app = Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "export-server"),
            onServerRunning: { channel in
                logger.notice("serving", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")", "page": "\(publicURL)/"])
            },
            logger: logger)
        let gauges = QueueGauges(jobs: backend.jobs, queue: backend.queue, factory: factory, logger: logger)
        var configuration = ServiceGroupConfiguration(
            services: [app as any Service, gauges] + backend.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // The worker's grace period plus time for the server to close its connections; past it the group
        // cancels what is left (the worker then hands its exports back at once).
        configuration.maximumGracefulShutdownDuration = .seconds(options.shutdownGrace + 15)
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
        logger.notice("stopped")
    }
}
