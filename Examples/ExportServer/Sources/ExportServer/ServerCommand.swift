import ArgumentParser
import Foundation
import Logging

/// `export-server`: the export feature inside a Hummingbird service.
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-server",
        abstract: "Serves the MembershipExport HTTP API, its download links, /metrics, /health and a web page.")

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on.") var port = 8080
    @Option(name: .customLong("data-dir"), help: "The file-system backend's data directory.") var dataDirectory = "export-server-data"
    @Option(help: "file (default), aws or postgres.") var backend = "file"
    @Option(name: .customLong("database-url"), help: "The postgres backend's database: postgres://user:password@host:5432/database[?sslmode=verify-full&sslrootcert=ca.pem] (sslmode as libpq's: disable, the default, prefer, require, verify-ca, verify-full).")
    var databaseURL: String?
    @Option(help: "The AWS endpoint, such as http://127.0.0.1:5000 for moto_server; AWS itself when absent.") var endpoint: String?
    @Option(help: "The AWS region; AWS_REGION or us-east-1 when absent.") var region: String?
    @Option(help: "DEMO SIGN-IN (stand-in for your authentication): name:password pairs for HTTP Basic.")
    var users = "alice:demo,bob:demo"
    @Option(name: .customLong("public-url"), help: "The address e-mailed links start with; http://HOST:PORT when absent.")
    var publicURL: String?
    @Option(help: "Exports run at once.") var workers = 2
    @Option(help: "Memberships per demo user.") var rows = 20_000
    @Option(name: .customLong("page-size"), help: "Rows per source page.") var pageSize = 1000
    @Option(name: .customLong("page-delay-ms"), help: "A pause per source page, so an export's progress can be watched.")
    var pageDelayMilliseconds = 100
    @Option(name: .customLong("broken-users"), help: "Users whose exports fail (to see a failure's reason), comma-separated.")
    var brokenUsers = ""
    @Option(name: .customLong("rate-limit"), help: "New exports per user per hour; 0 for no limit.") var rateLimit = 10
    @Option(name: .customLong("shutdown-grace"), help: "Seconds running exports get to finish on SIGTERM.") var shutdownGrace = 30
    @Option(name: .customLong("visibility-timeout"), help: "Seconds of a worker's lease on a job.") var visibilityTimeout = 60
    @Option(
        name: .customLong("heartbeat-ms"),
        help: "How often a running export renews its lease and records its rows written (what the page shows as progress).")
    var heartbeatMilliseconds = 1000
    @Option(
        name: .customLong("schedule-interval"),
        help: "Seconds between the scheduler's passes: how late a schedule's run may start (file and aws backends).")
    var scheduleInterval = 15
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard ["file", "aws", "postgres"].contains(backend) else { throw ValidationError("--backend must be file, aws or postgres") }
        guard (backend == "postgres") == (databaseURL != nil) else { throw ValidationError("--backend postgres needs --database-url, and only it") }
        if let databaseURL { do { _ = try PostgresHost.configuration(url: databaseURL) } catch { throw ValidationError("\(error)") } }
        guard endpoint == nil || backend == "aws" else { throw ValidationError("--endpoint needs --backend aws") }
        guard workers >= 1, rows >= 0, pageSize >= 1, pageDelayMilliseconds >= 0, rateLimit >= 0, shutdownGrace >= 0, visibilityTimeout >= 1, heartbeatMilliseconds >= 10,
            heartbeatMilliseconds < visibilityTimeout * 1000 else {
            throw ValidationError("--workers, --page-size and --visibility-timeout must be at least 1, --heartbeat-ms 10 and below the visibility timeout; the other numbers at least 0")
        }
        guard (1...240).contains(scheduleInterval) else {
            throw ValidationError("--schedule-interval must be 1...240 seconds (below the scheduler's 5-minute lateness)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level") }
        if let publicURL { guard URL(string: publicURL)?.host != nil else { throw ValidationError("--public-url needs an absolute URL") } }
        if let endpoint { guard URL(string: endpoint)?.host != nil else { throw ValidationError("--endpoint needs a URL such as http://127.0.0.1:5000") } }
        do { _ = try DemoAuthentication(parsing: users) } catch { throw ValidationError("\(error)") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        try await ExportServer(options: self).run()
    }
}
