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

    /// A migrated `PostgresBackend` on a fresh database of the test server, through a database that
    /// counts its statements, and a service on it; nothing runs when there is no server.
    static func withCountedBackend(_ body: (CountingDatabase, PostgresBackend, ExportService) async throws -> Void) async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let counting = CountingDatabase(database)
            let backend = try PostgresBackend(database: counting, blobStore: InMemoryBlobStore(), notifier: InMemoryNotifier())
            try await backend.migrate()
            try await body(counting, backend, try ExportService(ports: backend.ports, configuration: .init(rateLimit: nil)))
        }
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
        try await Self.withCountedBackend { counting, backend, service in
            let database = counting.inner
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

extension TransactionalEnqueueTests {
    @Test("the worker's last step on PostgresBackend records the notification and acknowledges its message in one statement")
    func acknowledgedWithTheRecord() async throws {
        try await Self.withCountedBackend { counting, backend, service in
            let database = counting.inner
            let ticket = try await service.request(Self.request("fay"))
            let source = InMemoryMembershipSource([])
            let worker = try ExportWorker(ports: backend.ports, source: source, configuration: .init(receiveWaitTime: .zero))
            counting.texts.withLock { $0 = [] }
            #expect(try await worker.processAvailable() == 1)
            let job = try #require(try await backend.jobStore.get(ticket.jobID))
            #expect(job.state == .succeeded && job.lifecycle.notified)
            #expect(try await Self.count("SELECT count(*)::text FROM export_queue", database) == 0)
            let texts = counting.texts.withLock { $0 }
            #expect(texts.filter { $0.contains("acknowledged AS (") }.count == 1, "one update-and-acknowledge statement")
            #expect(!texts.contains { $0.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("DELETE FROM export_queue") }, "no acknowledgement of its own")
        }
    }

    @Test("update(_:acknowledging:on:) changes both or neither: a stale copy, a lost lease and an unlinked queue change nothing")
    func acknowledgingUpdate() async throws {
        try await Self.withCountedBackend { counting, backend, service in
            let database = counting.inner
            let ticket = try await service.request(Self.request("gus"))
            let store = backend.jobStore
            var delivery = try #require(try await backend.queue.receive(max: 1, visibilityTimeout: .seconds(60), waitTime: .zero).first)
            let read = try #require(try await store.get(ticket.jobID))
            var changed = read
            changed.updatedAt = changed.updatedAt.addingTimeInterval(1)
            let messages = { try await Self.count("SELECT count(*)::text FROM export_queue", database) }

            // A store not linked to this queue declines.
            let standalone = PostgresJobStore(executor: database, schema: backend.schema)
            #expect(try await standalone.update(changed, acknowledging: delivery.receipt, on: backend.queue) == nil)
            // A receipt whose lease is not held: nothing changes.
            let id = try #require(delivery.receipt.rawValue.split(separator: ".").first)
            let forged = LeaseReceipt(id + ".not-the-token")
            await #expect { try await store.update(changed, acknowledging: forged, on: backend.queue) } throws: {
                ($0 as? ExportError)?.code == .leaseLost
            }
            #expect(try await store.get(ticket.jobID)?.version == read.version)
            #expect(try await messages() == 1)
            // A stale copy: nothing changes, the lease is still held.
            let moved = try await store.update(changed)
            await #expect { try await store.update(changed, acknowledging: delivery.receipt, on: backend.queue) } throws: {
                ($0 as? ExportError)?.code == .versionConflict
            }
            #expect(try await store.get(ticket.jobID)?.version == moved.version)
            #expect(try await messages() == 1)
            // The current copy: the job is stored and the message is gone.
            var current = moved
            current.updatedAt = current.updatedAt.addingTimeInterval(1)
            let stored = try #require(try await store.update(current, acknowledging: delivery.receipt, on: backend.queue))
            #expect(stored.version == moved.version + 1)
            #expect(try await store.get(ticket.jobID) == stored)
            #expect(try await messages() == 0)
            // Once the message is gone, its receipt is a lost lease, and the job does not change.
            await #expect { try await store.update(stored, acknowledging: delivery.receipt, on: backend.queue) } throws: {
                ($0 as? ExportError)?.code == .leaseLost
            }
            #expect(try await store.get(ticket.jobID)?.version == stored.version)
            // A released lease (the message visible again) is lost too.
            try await backend.queue.enqueue(QueueMessage(jobID: ticket.jobID))
            delivery = try #require(try await backend.queue.receive(max: 1, visibilityTimeout: .seconds(60), waitTime: .zero).first)
            try await backend.queue.release(delivery.receipt, delay: .zero)
            await #expect { try await store.update(stored, acknowledging: delivery.receipt, on: backend.queue) } throws: {
                ($0 as? ExportError)?.code == .leaseLost
            }
            #expect(try await messages() == 1)
        }
    }
}

/// A database that counts the statements run through it, inside transactions too, and keeps their
/// SQL texts.
final class CountingDatabase: ExportSQLDatabase {
    let inner: PostgresNIODatabase
    let statements = Atomic<Int>(0)
    let texts = Mutex<[String]>([])

    init(_ inner: PostgresNIODatabase) { self.inner = inner }

    func record(_ statement: ExportSQLStatement) {
        statements.add(1, ordering: .relaxed)
        texts.withLock { $0.append(statement.sql) }
    }

    func execute(_ statement: ExportSQLStatement) async throws -> [ExportSQLRow] {
        record(statement)
        return try await inner.execute(statement)
    }

    func withTransaction<Result: Sendable>(_ body: (any ExportSQLExecutor) async throws -> Result) async throws -> Result {
        try await inner.withTransaction { transaction in try await body(Counted(inner: transaction, owner: self)) }
    }

    struct Counted: ExportSQLExecutor {
        let inner: any ExportSQLExecutor
        let owner: CountingDatabase
        func execute(_ statement: ExportSQLStatement) async throws -> [ExportSQLRow] {
            owner.record(statement)
            return try await inner.execute(statement)
        }
    }
}
