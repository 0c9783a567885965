import ExportCore
import ExportInMemory
import ExportPostgres
import Foundation
import Logging
import PostgresNIO
import PostgresNIOPort
import Synchronization

/// `export-postgres-bench --database-url postgres://… [--jobs N] [--concurrency C] [--clients K] [--wake poll|listen]`: tiny
/// exports (one membership each) through the Postgres adapters, from request to notified: K clients
/// request N exports (one owner each) while one worker with C exports at once runs them; the job store,
/// the queue, the notification ledger and the membership table are all in PostgreSQL, files in memory.
/// `--wake listen` (the default) wakes the worker by `LISTEN`/`NOTIFY`; `--wake poll` polls every 2 ms
/// instead, as before wake-ups existed. Prints one JSON line: jobs, seconds, jobs per second.
@main
struct PostgresBench {
    static func main() async throws {
        var arguments = ArraySlice(CommandLine.arguments.dropFirst())
        var url: String?
        var jobs = 5000
        var concurrency = 32
        var clients = 16
        var wake = "listen"
        while let flag = arguments.popFirst() {
            guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
            switch flag {
            case "--database-url": url = value
            case "--jobs": jobs = Int(value) ?? 0
            case "--concurrency": concurrency = Int(value) ?? 0
            case "--clients": clients = Int(value) ?? 0
            case "--wake": wake = value
            default: fail("unknown option \(flag)")
            }
        }
        guard let url, jobs >= 1, concurrency >= 1, clients >= 1, ["listen", "poll"].contains(wake)
        else {
            fail("usage: export-postgres-bench --database-url postgres://user:password@host:port/db [--jobs N] [--concurrency C] [--clients K] [--wake listen|poll]")
        }
        var configuration: PostgresClient.Configuration
        do { configuration = try PostgresURL.configuration(url) } catch { fail("--database-url: \(error)") }
        configuration.options.maximumConnections = concurrency + clients + 5
        let client = PostgresClient(configuration: configuration)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        let database = PostgresNIODatabase(client: client)

        let schema = try PostgresSchema()
        let wakeUps = wake == "listen" ? PostgresWakeUps(schema: schema, listener: PostgresNIOListener(client: client)) : nil
        let listening = Task { await wakeUps?.run() }
        defer { listening.cancel() }
        let notifier = LedgerNotifier(ledger: PostgresNotificationLedger(executor: database, schema: schema))
        let backend = try PostgresBackend(
            database: database, blobStore: InMemoryBlobStore(),
            notifier: notifier, schema: schema, wakeUps: wakeUps)
        try await backend.migrate()
        let run = UUID().uuidString.prefix(8).lowercased()
        _ = try await database.execute(
            .init(
                """
                CREATE TABLE IF NOT EXISTS bench_memberships (
                    membership_id text NOT NULL, user_id text NOT NULL, organization_id text NOT NULL, organization_name text NOT NULL,
                    plan text NOT NULL, role text NOT NULL, status text NOT NULL, started_at timestamptz NOT NULL,
                    PRIMARY KEY (user_id, membership_id))
                """))
        _ = try await database.execute(
            .init(
                """
                INSERT INTO bench_memberships SELECT 'm-1', 'bench-' || $1 || '-' || n, 'org-1', 'Acme', 'pro', 'owner', 'active', now()
                FROM generate_series(0, $2::integer - 1) AS n
                """, [String(run), String(jobs)]))
        let source = try SQLMembershipSource(
            executor: database,
            mapping: .init(table: "bench_memberships", endedAt: nil, renewsAt: nil, amount: nil, currency: nil))
        let service = try ExportService(ports: backend.ports, configuration: .init(rateLimit: nil))
        let worker = try ExportWorker(
            ports: backend.ports, source: source,
            configuration: .init(
                concurrency: concurrency, visibilityTimeout: .seconds(60), receiveWaitTime: wakeUps == nil ? .zero : .seconds(10),
                idleDelay: .milliseconds(2)))
        let working = Task { try await worker.run() }

        let (total, lanes, prefix) = (jobs, clients, String(run))
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    for n in stride(from: lane, to: total, by: lanes) {
                        let owner = "bench-\(prefix)-\(n)"
                        _ = try await service.request(
                            ExportRequest(owner: UserID(owner), recipient: try EmailAddress(validating: "\(owner)@example.com"), format: "csv"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let requested = ContinuousClock.now - start
        // Waits for the notifier's own count before asking the database, so the benchmark's polling
        // (a scan of the jobs table) does not take the database's CPU from the jobs it measures.
        while notifier.sent.load(ordering: .relaxed) < jobs { try await Task.sleep(for: .milliseconds(5)) }
        while true {
            let rows = try await database.execute(
                .init("SELECT count(*)::text FROM export_jobs WHERE notified AND owner LIKE $1", ["bench-\(run)-%"]))
            if Int(rows.first?[0] ?? "") == jobs { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let elapsed = ContinuousClock.now - start
        worker.shutdown()
        _ = try? await working.value  // the worker's end is not measured
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let requestSeconds = Double(requested.components.seconds) + Double(requested.components.attoseconds) / 1e18
        print(
            #"{"jobs": \#(jobs), "seconds": \#(String(format: "%.3f", seconds)), "jobs_per_second": \#(String(format: "%.1f", Double(jobs) / seconds)), "#
                + #""requests_per_second": \#(String(format: "%.1f", Double(jobs) / requestSeconds)), "concurrency": \#(concurrency), "clients": \#(clients), "wake": "\#(wake)"}"#)
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("export-postgres-bench: \(message)\n".utf8))
        exit(2)
    }
}

/// A channel without idempotency keys behind the Postgres ledger: reserve, "send", mark sent.
final class LedgerNotifier: Notifier {
    let ledger: PostgresNotificationLedger
    /// Notifications sent.
    let sent = Atomic<Int>(0)

    init(ledger: PostgresNotificationLedger) { self.ledger = ledger }

    func send(_ notification: ExportNotification) async throws {
        let now = Date()
        guard try await ledger.reserveKey(notification.idempotencyKey, now: now, holdFor: .seconds(60)) == .reserved else { return }
        try await ledger.markSent(notification.idempotencyKey, at: now)
        sent.add(1, ordering: .relaxed)
    }
}
