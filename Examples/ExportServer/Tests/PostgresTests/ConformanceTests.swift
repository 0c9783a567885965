import ExportAWS
import ExportConformance
import ExportCore
import ExportInMemory
import ExportPostgres
import Foundation
import PostgresNIOPort
import Synchronization
import Testing

/// Every public conformance suite against the Postgres adapters on a real PostgreSQL.
@Suite("Postgres conformance")
struct PostgresConformanceTests {
    @Test("PostgresJobStore passes JobStoreConformance")
    func jobStore() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema()
            try await schema.migrate(database)
            try await JobStoreConformance { PostgresJobStore(executor: database, schema: schema) }.run()
        }
    }

    @Test("PostgresQueue passes QueueConformance, on an injected clock, reading jobs with the lease or not", arguments: [false, true])
    func queue(readsJobs: Bool) async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema()
            try await schema.migrate(database)
            let clock = ManualClock()
            let counter = Atomic<Int>(0)
            try await QueueConformance(
                makeQueue: {
                    // A fresh, empty queue per case: queues share the tables, told apart by name.
                    PostgresQueue(
                        executor: database, schema: schema, name: "conformance-\(counter.add(1, ordering: .relaxed).newValue)", clock: clock,
                        readsJobs: readsJobs)
                },
                advance: { clock.advance(by: $0) },
                now: { clock.now() }
            ).run()
        }
    }

    @Test("a receive on PostgresBackend reads each message's job with the lease: the job as stored, or nil when it is gone")
    func receiveReadsJobs() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let backend = try PostgresBackend(database: database, blobStore: InMemoryBlobStore(), notifier: InMemoryNotifier())
            try await backend.migrate()
            let service = try ExportService(ports: backend.ports, configuration: .init(rateLimit: nil))
            let ticket = try await service.request(
                ExportRequest(owner: "reader", recipient: try EmailAddress(validating: "reader@example.com"), format: "csv"))
            // A message whose job does not exist.
            try await backend.queue.enqueue(QueueMessage(jobID: JobID("no-such-job")!))
            let deliveries = try await backend.queue.receive(max: 10, visibilityTimeout: .seconds(60), waitTime: .zero)
            #expect(deliveries.count == 2)
            let stored = try #require(try await backend.jobStore.get(ticket.jobID))
            #expect(deliveries.first { $0.message.jobID == ticket.jobID }?.job == stored)
            #expect(deliveries.first { $0.message.jobID == JobID("no-such-job")! }?.job == nil)
            // A queue made without the option reads no job.
            let plain = PostgresQueue(executor: database, schema: backend.schema)
            try await plain.release(try #require(deliveries.first { $0.message.jobID == ticket.jobID }).receipt, delay: .zero)
            #expect(try await plain.receive(max: 1, visibilityTimeout: .seconds(60), waitTime: .zero).first?.job == nil)
        }
    }

    @Test("PostgresScheduleStore passes ScheduleStoreConformance")
    func scheduleStore() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            // A fresh set of tables per case: the due scan looks across owners.
            let counter = Atomic<Int>(0)
            try await ScheduleStoreConformance {
                let schema = try PostgresSchema(prefix: "sched\(counter.add(1, ordering: .relaxed).newValue)_")
                try await schema.migrate(database)
                return PostgresScheduleStore(executor: database, schema: schema)
            }.run()
        }
    }

    @Test("PostgresWorkerControlStore passes WorkerControlStoreConformance, two stores on one table")
    func workerControl() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema(prefix: "control_")
            try await schema.migrate(database)
            #expect(try await PostgresWorkerControlStore(executor: database, schema: schema).workerControl() == WorkerControl())
            try await WorkerControlStoreConformance { PostgresWorkerControlStore(executor: database, schema: schema) }.run()
        }
    }

    @Test("SQLMembershipSource passes MembershipSourceConformance, rows changing mid-scan included")
    func membershipSource() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let tables = Shared(0)
            let current = Shared("")
            try await MembershipSourceConformance(
                change: { inserted, deleted in
                    let table = current.withLock { $0 }
                    try await MembershipTable.insert(inserted, into: table, on: database)
                    for row in deleted {
                        _ = try await database.execute(
                            .init("DELETE FROM \(table) WHERE membership_id = $1 AND user_id = $2", [row.membershipID, row.userID.rawValue]))
                    }
                },
                makeSource: { rows in
                    let table = "memberships_\(tables.withLock { $0 += 1; return $0 })"
                    try await MembershipTable.create(table, on: database)
                    try await MembershipTable.insert(rows, into: table, on: database)
                    current.withLock { $0 = table }
                    return try SQLMembershipSource(executor: database, mapping: .init(table: table))
                }
            ).run()
        }
    }

    @Test("PostgresNotificationLedger behind a ledger notifier passes NotifierConformance")
    func ledgerNotifier() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema()
            try await schema.migrate(database)
            let delivered = DeliveryLog()
            try await NotifierConformance(
                makeNotifier: { LedgerNotifier(ledger: PostgresNotificationLedger(executor: database, schema: schema), log: delivered) },
                deliveredCount: { delivered.count($0) }
            ).run()
        }
    }

    @Test("PostgresNotificationLedger: one winner among concurrent reservations, a lapsed one is taken over, sent stays sent")
    func ledger() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema()
            try await schema.migrate(database)
            let ledger = PostgresNotificationLedger(executor: database, schema: schema)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let outcomes = try await withThrowingTaskGroup(of: PostgresNotificationLedger.ReservationOutcome.self) { group in
                for _ in 0..<16 { group.addTask { try await ledger.reserveKey("job-1.ready", now: now, holdFor: .seconds(60)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .reserved }.count == 1)
            #expect(outcomes.filter { $0 == .inProgress(until: now.addingTimeInterval(60)) }.count == 15)
            // Its sender died: after the hold, another sender takes the key over.
            #expect(try await ledger.reserveKey("job-1.ready", now: now.addingTimeInterval(59), holdFor: .seconds(60)) != .reserved)
            #expect(try await ledger.reserveKey("job-1.ready", now: now.addingTimeInterval(61), holdFor: .seconds(60)) == .reserved)
            try await ledger.markSent("job-1.ready", at: now.addingTimeInterval(62))
            #expect(try await ledger.reserveKey("job-1.ready", now: now.addingTimeInterval(10_000), holdFor: .seconds(60)) == .alreadySent)
            try await ledger.cancelReservation("job-1.ready")
            #expect(try await ledger.reserveKey("job-1.ready", now: now.addingTimeInterval(10_000), holdFor: .seconds(60)) == .alreadySent)
            // A cancelled reservation frees the key at once.
            #expect(try await ledger.reserveKey("job-2.ready", now: now, holdFor: .seconds(60)) == .reserved)
            try await ledger.cancelReservation("job-2.ready")
            #expect(try await ledger.reserveKey("job-2.ready", now: now, holdFor: .seconds(60)) == .reserved)
        }
    }

    @Test("PostgresNotificationLedger is fenced: the next delivery of the same message takes a dead sender's reservation over at once, nobody else does")
    func fencing() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema()
            try await schema.migrate(database)
            let ledger: any NotificationLedger = PostgresNotificationLedger(executor: database, schema: schema)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let key = "job-1.ready"
            let first = LedgerHolder(message: "m-1", delivery: 1)
            #expect(try await ledger.reserve(key, holder: first, now: now, holdFor: .seconds(300)) == .reserved)
            // The same delivery again, another message's holder, and a holder-less sender must wait.
            #expect(try await ledger.reserve(key, holder: first, now: now, holdFor: .seconds(300)) == .inProgress(until: now.addingTimeInterval(300)))
            #expect(
                try await ledger.reserve(key, holder: LedgerHolder(message: "m-2", delivery: 9), now: now, holdFor: .seconds(300))
                    == .inProgress(until: now.addingTimeInterval(300)))
            #expect(try await ledger.reserve(key, now: now, holdFor: .seconds(300)) == .inProgress(until: now.addingTimeInterval(300)))
            // The message came back (delivery 2): its sender takes over at once, long before the hold ends.
            #expect(try await ledger.reserve(key, holder: LedgerHolder(message: "m-1", delivery: 2), now: now.addingTimeInterval(1), holdFor: .seconds(30)) == .reserved)
            // And the superseded delivery cannot take it back.
            #expect(try await ledger.reserve(key, holder: first, now: now.addingTimeInterval(2), holdFor: .seconds(30)) == .inProgress(until: now.addingTimeInterval(31)))
            try await ledger.markSent(key, at: now.addingTimeInterval(3), providerMessageID: "ses-0001")
            #expect(try await ledger.reserve(key, holder: LedgerHolder(message: "m-1", delivery: 3), now: now.addingTimeInterval(4), holdFor: .seconds(30)) == .alreadySent)
            // The channel's id is kept, and a late second markSent does not overwrite it.
            try await ledger.markSent(key, at: now.addingTimeInterval(5), providerMessageID: "ses-0002")
            #expect(try await PostgresNotificationLedger(executor: database, schema: schema).providerMessageID(of: key) == "ses-0001")
        }
    }
}

extension PostgresNotificationLedger: @retroactive NotificationLedger {
    public func reserve(_ key: String, holder: LedgerHolder?, now: Date, holdFor: Duration) async throws -> LedgerReservation {
        switch try await reserveKey(key, holder: holder.map { Holder(message: $0.message, delivery: $0.delivery) }, now: now, holdFor: holdFor) {
        case .reserved: .reserved
        case .alreadySent: .alreadySent
        case .inProgress(let until): .inProgress(until: until)
        }
    }
    // markSent(_:at:providerMessageID:) is the ledger's own method, with the protocol's signature.
}

/// A notifier for a channel without idempotency keys: every send goes through the ledger.
struct LedgerNotifier: Notifier {
    let ledger: PostgresNotificationLedger
    let log: DeliveryLog
    func send(_ notification: ExportNotification) async throws {
        try await ledger.deliverOnce(notification.idempotencyKey, clock: SystemClock(), holdFor: .seconds(30)) {
            log.record(notification.idempotencyKey)
            return nil
        }
    }
}

/// What the stand-in channel delivered, by key.
final class DeliveryLog: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func record(_ key: String) { counts.withLock { $0[key, default: 0] += 1 } }
    func count(_ key: String) -> Int { counts.withLock { $0[key, default: 0] } }
}

/// A host's `memberships` table, as the tests create and fill it.
enum MembershipTable {
    static func create(_ table: String, on database: some ExportSQLExecutor) async throws {
        _ = try await database.execute(
            .init(
                """
                CREATE TABLE \(table) (
                    membership_id text PRIMARY KEY, user_id text NOT NULL, organization_id text NOT NULL, organization_name text NOT NULL,
                    plan text NOT NULL, role text NOT NULL, status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz,
                    renews_at timestamptz, amount numeric, currency text, seat_count integer, cost_center text)
                """))
        _ = try await database.execute(.init("CREATE INDEX \(table)_keyset ON \(table) (user_id, membership_id)"))
    }

    static func insert(_ rows: [Membership], into table: String, on database: some ExportSQLExecutor) async throws {
        for row in rows {
            func time(_ date: Date?) -> String? { date.map { RFC3339.string($0, fractionDigits: 6) ?? "" } }
            _ = try await database.execute(
                .init(
                    """
                    INSERT INTO \(table) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz, $10::timestamptz, $11::numeric, $12,
                        $13::integer, $14)
                    """,
                    [
                        row.membershipID, row.userID.rawValue, row.organizationID, row.organizationName, row.plan, row.role, row.status,
                        time(row.startedAt), time(row.endedAt), time(row.renewsAt), row.amount?.description, row.currency,
                        row.attributes["seat_count"], row.attributes["cost_center"],
                    ]))
        }
    }
}

/// A value shared between concurrent test tasks.
final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { storage.withLock { body(&$0) } }
}
