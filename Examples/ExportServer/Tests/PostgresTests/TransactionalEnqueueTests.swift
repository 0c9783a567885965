import ExportCore
import ExportInMemory
import ExportPostgres
import Foundation
import PostgresNIOPort
import Synchronization
import Testing

/// `ExportService.request(_:in:)`: the export exists if and only if the host's transaction commits.
@Suite("Transactional enqueue")
struct TransactionalEnqueueTests {
    struct HostRollback: Error {}

    static func request(_ user: String) throws -> ExportRequest {
        ExportRequest(owner: UserID(user), recipient: try EmailAddress(validating: "\(user)@example.com"), format: "csv")
    }

    static func count(_ sql: String, _ database: some ExportSQLExecutor) async throws -> Int {
        let rows = try await database.execute(.init(sql))
        return Int(rows.first?[0] ?? "") ?? -1
    }

    /// The host's own table, changed in the same transaction as the export request.
    static func prepareHostTable(_ database: some ExportSQLExecutor) async throws {
        _ = try await database.execute(.init("CREATE TABLE plans (user_id text PRIMARY KEY, tier text NOT NULL)"))
        _ = try await database.execute(.init("INSERT INTO plans VALUES ('alice', 'free'), ('bob', 'free')"))
    }

    @Test("a rolled-back host transaction leaves no job and no message; a committed one exactly one of each")
    func rollbackAndCommit() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let backend = try PostgresBackend(database: database, blobStore: InMemoryBlobStore(), notifier: InMemoryNotifier())
            try await backend.migrate()
            try await Self.prepareHostTable(database)
            let service = try ExportService(ports: backend.ports)

            await #expect(throws: HostRollback.self) {
                try await database.withTransaction { transaction in
                    _ = try await transaction.execute(.init("UPDATE plans SET tier = 'pro' WHERE user_id = 'alice'"))
                    let ticket = try await service.request(Self.request("alice"), in: transaction)
                    // Inside the transaction the job and its message exist…
                    #expect(try await Self.count("SELECT count(*)::text FROM export_jobs WHERE id = '\(ticket.jobID)'", transaction) == 1)
                    #expect(try await Self.count("SELECT count(*)::text FROM export_queue WHERE job_id = '\(ticket.jobID)'", transaction) == 1)
                    // …and outside it they do not, yet.
                    #expect(try await Self.count("SELECT count(*)::text FROM export_jobs", database) == 0)
                    throw HostRollback()
                }
            }
            #expect(try await Self.count("SELECT count(*)::text FROM export_jobs", database) == 0)
            #expect(try await Self.count("SELECT count(*)::text FROM export_queue", database) == 0)
            #expect(try await Self.count("SELECT count(*)::text FROM plans WHERE tier = 'pro'", database) == 0)

            let ticket = try await database.withTransaction { transaction in
                _ = try await transaction.execute(.init("UPDATE plans SET tier = 'pro' WHERE user_id = 'alice'"))
                return try await service.request(Self.request("alice"), in: transaction)
            }
            #expect(!ticket.deduplicated)
            #expect(try await Self.count("SELECT count(*)::text FROM export_jobs", database) == 1)
            #expect(try await Self.count("SELECT count(*)::text FROM export_queue WHERE job_id = '\(ticket.jobID)'", database) == 1)
            #expect(try await Self.count("SELECT count(*)::text FROM plans WHERE tier = 'pro'", database) == 1)
            #expect(try await backend.jobStore.get(ticket.jobID)?.state == .queued)
        }
    }

    @Test("a crash between the commit and any worker start loses nothing: a new process's worker finishes the job")
    func crashAfterCommit() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { _, name in
            // The first "process": commits the request, then dies before any worker ran (its client is gone).
            let jobID = try await server.withClient(database: name) { database in
                let backend = try PostgresBackend(database: database, blobStore: InMemoryBlobStore(), notifier: InMemoryNotifier())
                try await backend.migrate()
                try await Self.prepareHostTable(database)
                let service = try ExportService(ports: backend.ports)
                return try await database.withTransaction { transaction in
                    _ = try await transaction.execute(.init("UPDATE plans SET tier = 'pro' WHERE user_id = 'bob'"))
                    return try await service.request(Self.request("bob"), in: transaction).jobID
                }
            }
            // The second process: new connections, new adapters, a worker that knows nothing of the first.
            try await server.withClient(database: name) { database in
                let notifier = InMemoryNotifier()
                let backend = try PostgresBackend(database: database, blobStore: InMemoryBlobStore(), notifier: notifier)
                let source = InMemoryMembershipSource([
                    Membership(
                        membershipID: "m-1", userID: "bob", organizationID: "o-1", organizationName: "Acme", plan: "pro", role: "owner",
                        status: "active", startedAt: Date(timeIntervalSince1970: 1_700_000_000))
                ])
                let worker = try ExportWorker(ports: backend.ports, source: source)
                #expect(try await worker.processAvailable() == 1)
                let job = try #require(try await backend.jobStore.get(jobID))
                #expect(job.state == .succeeded)
                #expect(job.result?.rows == 1)
                #expect(await notifier.deliveryCount(for: "\(jobID).ready") == 1)
                #expect(try await Self.count("SELECT count(*)::text FROM export_queue", database) == 0)
            }
        }
    }

    @Test("request(_:in:) on a service that is not on Postgres adapters is a configuration error")
    func notPostgres() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let service = try ExportService(ports: InMemoryBackend().ports)
            let error = await #expect(throws: ExportError.self) {
                try await database.withTransaction { transaction in try await service.request(Self.request("carol"), in: transaction) }
            }
            #expect(error?.code == .configuration)
        }
    }

    @Test("a request on PostgresBackend records the job and queues its message in one statement; standalone adapters do it in two")
    func oneStatement() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let counting = CountingDatabase(database)
            let backend = try PostgresBackend(database: counting, blobStore: InMemoryBlobStore(), notifier: InMemoryNotifier())
            try await backend.migrate()
            let service = try ExportService(ports: backend.ports, configuration: .init(rateLimit: nil))
            counting.statements.store(0, ordering: .relaxed)
            let ticket = try await service.request(Self.request("dave"))
            // The owner's listing, then the job's insert with its message's.
            #expect(counting.statements.load(ordering: .relaxed) == 2)
            #expect(try await Self.count("SELECT count(*)::text FROM export_queue WHERE job_id = '\(ticket.jobID)'", database) == 1)
            #expect(try await backend.jobStore.get(ticket.jobID)?.state == .queued)
            // Asked again while the export is active: the same job, nothing more queued.
            #expect(try await service.request(Self.request("dave")).jobID == ticket.jobID)
            #expect(try await Self.count("SELECT count(*)::text FROM export_queue", database) == 1)
            let delivery = try #require(try await backend.queue.receive(max: 1, visibilityTimeout: .seconds(60), waitTime: .zero).first)
            #expect(delivery.message.jobID == ticket.jobID)

            // A store and a queue not made by one backend may be on two databases: the store declines.
            let store = PostgresJobStore(executor: counting, schema: backend.schema)
            let queue = PostgresQueue(executor: counting, schema: backend.schema)
            let standalone = try ExportService(
                ports: ExportPorts(jobStore: store, queue: queue, blobStore: InMemoryBlobStore(), notifier: InMemoryNotifier()),
                configuration: .init(rateLimit: nil))
            counting.statements.store(0, ordering: .relaxed)
            let other = try await standalone.request(Self.request("erin"))
            #expect(counting.statements.load(ordering: .relaxed) == 3)
            #expect(try await Self.count("SELECT count(*)::text FROM export_queue WHERE job_id = '\(other.jobID)'", database) == 1)
        }
    }
}

/// A database that counts the statements run through it, inside transactions too.
final class CountingDatabase: ExportSQLDatabase {
    let inner: PostgresNIODatabase
    let statements = Atomic<Int>(0)

    init(_ inner: PostgresNIODatabase) { self.inner = inner }

    func execute(_ statement: ExportSQLStatement) async throws -> [ExportSQLRow] {
        statements.add(1, ordering: .relaxed)
        return try await inner.execute(statement)
    }

    func withTransaction<Result: Sendable>(_ body: (any ExportSQLExecutor) async throws -> Result) async throws -> Result {
        try await inner.withTransaction { transaction in try await body(Counted(inner: transaction, owner: self)) }
    }

    struct Counted: ExportSQLExecutor {
        let inner: any ExportSQLExecutor
        let owner: CountingDatabase
        func execute(_ statement: ExportSQLStatement) async throws -> [ExportSQLRow] {
            owner.statements.add(1, ordering: .relaxed)
            return try await inner.execute(statement)
        }
    }
}
