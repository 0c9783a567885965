import ExportCore
import ExportPostgres
import Foundation
import PostgresNIOPort
import Synchronization
import Testing

/// `FOR UPDATE SKIP LOCKED` under contention: concurrent receivers never claim one message twice.
@Suite("Postgres queue contention")
struct ContentionTests {
    @Test("8 concurrent workers claim each of 600 messages exactly once")
    func eightWorkers() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema()
            try await schema.migrate(database)
            let queue = PostgresQueue(executor: database, schema: schema, name: "contention")
            let total = 600
            for index in 0..<total { try await queue.enqueue(QueueMessage(jobID: try #require(JobID("job-\(index)")))) }
            let claims = Shared<[String: Int]>([:])
            let lost = Shared(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var empty = 0
                        while empty < 3 {
                            // A lease far longer than the test: a second claim of a message can only be a double claim.
                            let deliveries = try await queue.receive(max: 4, visibilityTimeout: .seconds(600), waitTime: .zero)
                            if deliveries.isEmpty { empty += 1; continue }
                            empty = 0
                            claims.withLock { for delivery in deliveries { $0[delivery.message.jobID.rawValue, default: 0] += 1 } }
                            for delivery in deliveries {
                                do {
                                    try await queue.acknowledge(delivery.receipt)
                                } catch let error as ExportError where error.code == .leaseLost {
                                    lost.withLock { $0 += 1 }  // someone claimed it again meanwhile: counted below
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let counts = claims.withLock { $0 }
            let doubles = counts.filter { $0.value > 1 }
            #expect(doubles.isEmpty, "messages claimed more than once: \(doubles.sorted { $0.key < $1.key }.prefix(10))")
            #expect(counts.count == total, "\(counts.count) of \(total) messages were claimed")
            #expect(lost.withLock { $0 } == 0, "acknowledgements that found their lease taken by a second claim")
            let left = try await database.execute(.init("SELECT count(*)::text FROM export_queue"))
            #expect(left.first?[0] == "0")
        }
    }

    @Test("enqueue is idempotent per job: one live message, whoever enqueues it and however often")
    func oneLiveMessagePerJob() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema()
            try await schema.migrate(database)
            let queue = PostgresQueue(executor: database, schema: schema, name: "idempotent")
            let message = QueueMessage(jobID: try #require(JobID("job-once")))
            let ids = try await withThrowingTaskGroup(of: MessageID.self) { group in
                for _ in 0..<12 { group.addTask { try await queue.enqueue(message) } }
                return try await group.reduce(into: Set<MessageID>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            // While its one message is leased, the reconciler's requeue adds nothing.
            let delivery = try #require(try await queue.receive(max: 10, visibilityTimeout: .seconds(60), waitTime: .zero).first)
            #expect(try await queue.enqueue(message) == delivery.id)
            #expect(try await queue.receive(max: 10, visibilityTimeout: .seconds(60), waitTime: .zero).isEmpty)
            // Dead-lettered, the job may be queued afresh; redriving its dead letter then adds no second message.
            try await queue.deadLetter(delivery.receipt, reason: "test")
            let fresh = try await queue.enqueue(message)
            #expect(fresh != delivery.id)
            #expect(try await queue.redrive(nil) == 1)
            let live = try await database.execute(.init("SELECT count(*)::text FROM export_queue WHERE job_id = 'job-once'"))
            #expect(live.first?[0] == "1")
            #expect(try await queue.deadLetters(limit: 10).isEmpty)
        }
    }

    @Test("migrations are versioned and idempotent, also when several processes start at once")
    func migrations() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema(prefix: "app_export_")
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 { group.addTask { try await schema.migrate(database) } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let all = Array(1...schema.latestVersion)
            #expect(all.count >= 4)
            #expect(applied.sorted() == all, "each migration applied once, by one of the four")
            #expect(try await schema.migrate(database).isEmpty)
            let versions = try await database.execute(.init("SELECT version::text FROM app_export_schema_migrations"))
            #expect(versions.compactMap { $0[0].flatMap { Int($0) } }.sorted() == all)
            // A database migrated by a newer library is refused, not clobbered.
            _ = try await database.execute(.init("INSERT INTO app_export_schema_migrations (version) VALUES (99)"))
            let error = await #expect(throws: ExportError.self) { try await schema.migrate(database) }
            #expect(error?.code == .unsupportedVersion)
            #expect(throws: ExportError.self) { try PostgresSchema(prefix: "x; DROP TABLE users; --") }
        }
    }
}
