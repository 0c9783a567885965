import ExportCore
import ExportInMemory
import ExportPostgres
import Foundation
import PostgresNIOPort
import Synchronization
import Testing

/// `LISTEN`/`NOTIFY` wake-ups: a waiting receive answers when a message is queued, not at its next poll.
///
/// Every receive here polls once a minute at most (`pollInterval` and `fallbackPollInterval` 60 s), and
/// each wait is raced against a 10-second limit: a receive that answers in time can only have been
/// woken by a notification.
@Suite("Postgres wake-ups")
struct WakeUpTests {
    struct TooLate: Error {}

    /// `body`'s result, or `TooLate` after `seconds`.
    static func within<T: Sendable>(_ seconds: Int, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw TooLate() }
            return value
        }
    }

    /// The example's listener, counting the notifications it passes on.
    final class Counting: ExportSQLListener {
        let inner: PostgresNIOListener
        let count = Atomic<Int>(0)
        init(inner: PostgresNIOListener) { self.inner = inner }
        func listen(on channel: String, onListening: @escaping @Sendable () -> Void, onNotification: @escaping @Sendable (String) -> Void) async throws {
            try await inner.listen(on: channel, onListening: onListening) { payload in
                self.count.add(1, ordering: .relaxed)
                onNotification(payload)
            }
        }
    }

    static func waitUntilListening(_ wakeUps: PostgresWakeUps) async throws {
        for _ in 0..<500 where !wakeUps.isListening { try await Task.sleep(for: .milliseconds(10)) }
        try #require(wakeUps.isListening, "the listener never reported LISTEN in effect")
    }

    @Test("a receive waiting on an empty queue answers when another process enqueues, in a commit, never on a rollback")
    func wakesOnEnqueue() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema()
            try await schema.migrate(database)
            let listener = Counting(inner: PostgresNIOListener(client: database.client))
            let wakeUps = PostgresWakeUps(schema: schema, listener: listener, fallbackPollInterval: .seconds(60))
            let receiver = PostgresQueue(executor: database, schema: schema, pollInterval: .seconds(60), wakeUps: wakeUps)
            // The enqueuing "process" announces without listening.
            let announcing = PostgresWakeUps(schema: schema, listener: nil)
            let sender = PostgresQueue(executor: database, schema: schema, wakeUps: announcing)
            let listening = Task { await wakeUps.run() }
            defer { listening.cancel() }
            try await Self.waitUntilListening(wakeUps)

            // 1. A plain enqueue wakes the waiting receive.
            let waiting = Task { try await receiver.receive(max: 1, visibilityTimeout: .seconds(60), waitTime: .seconds(60)) }
            try await Task.sleep(for: .milliseconds(300))  // let it find the queue empty and wait
            let id = try await sender.enqueue(QueueMessage(jobID: try #require(JobID("woken-1"))))
            let got = try await Self.within(10) { try await waiting.value }
            #expect(got.map(\.id) == [id])

            // 2. In a host transaction: nothing is announced until the commit; a rollback announces nothing.
            struct Rollback: Error {}
            let before = listener.count.load(ordering: .relaxed)
            #expect(before == 1)
            await #expect(throws: Rollback.self) {
                try await database.withTransaction { transaction in
                    let inTransaction = PostgresQueue(executor: transaction, schema: schema, wakeUps: announcing)
                    _ = try await inTransaction.enqueue(QueueMessage(jobID: try #require(JobID("rolled-back"))))
                    throw Rollback()
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(listener.count.load(ordering: .relaxed) == before, "a rolled-back enqueue must not wake anyone")
            try await database.withTransaction { transaction in
                let inTransaction = PostgresQueue(executor: transaction, schema: schema, wakeUps: announcing)
                _ = try await inTransaction.enqueue(QueueMessage(jobID: try #require(JobID("committed"))))
            }
            let committed = try await Self.within(10) {
                try await receiver.receive(max: 1, visibilityTimeout: .seconds(60), waitTime: .seconds(60))
            }
            #expect(committed.map(\.message.jobID.rawValue) == ["committed"])
            for _ in 0..<500 where listener.count.load(ordering: .relaxed) == before { try await Task.sleep(for: .milliseconds(10)) }
            #expect(listener.count.load(ordering: .relaxed) == before + 1, "the commit delivers the enqueue's notification")

            // 3. A release without delay wakes a waiting receive too.
            let second = Task { try await receiver.receive(max: 1, visibilityTimeout: .seconds(60), waitTime: .seconds(60)) }
            try await Task.sleep(for: .milliseconds(300))
            try await sender.release(try #require(committed.first).receipt, delay: .zero)
            let again = try await Self.within(10) { try await second.value }
            #expect(again.map(\.message.jobID.rawValue) == ["committed"])
        }
    }

    @Test("without a listener the queue polls; a listener that fails is retried and receives poll meanwhile")
    func fallsBackToPolling() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema()
            try await schema.migrate(database)
            final class Broken: ExportSQLListener {
                let attempts = Atomic<Int>(0)
                func listen(on channel: String, onListening: @escaping @Sendable () -> Void, onNotification: @escaping @Sendable (String) -> Void) async throws {
                    attempts.add(1, ordering: .relaxed)
                    throw ExportError(.unavailable, "no connection")
                }
            }
            let broken = Broken()
            let wakeUps = PostgresWakeUps(schema: schema, listener: broken, fallbackPollInterval: .seconds(60))
            let queue = PostgresQueue(executor: database, schema: schema, pollInterval: .milliseconds(50), wakeUps: wakeUps)
            let failures = Mutex(0)
            let listening = Task { await wakeUps.run(retryAfter: .milliseconds(20)) { _ in failures.withLock { $0 += 1 } } }
            defer { listening.cancel() }
            let waiting = Task { try await queue.receive(max: 1, visibilityTimeout: .seconds(60), waitTime: .seconds(60)) }
            try await Task.sleep(for: .milliseconds(200))
            _ = try await queue.enqueue(QueueMessage(jobID: try #require(JobID("polled"))))
            let got = try await Self.within(10) { try await waiting.value }
            #expect(got.map(\.message.jobID.rawValue) == ["polled"])
            #expect(!wakeUps.isListening)
            #expect(broken.attempts.load(ordering: .relaxed) >= 2, "a failed listen is tried again")
            #expect(failures.withLock { $0 } >= 1)
        }
    }

    @Test("PostgresBackend refuses wake-ups made for another schema")
    func schemaMismatch() throws {
        let other = PostgresWakeUps(schema: try PostgresSchema(prefix: "other_"), listener: nil)
        struct Unused: ExportSQLDatabase {
            func execute(_ statement: ExportSQLStatement) async throws -> [ExportSQLRow] { [] }
            func withTransaction<R: Sendable>(_ body: (any ExportSQLExecutor) async throws -> R) async throws -> R { try await body(self) }
        }
        let error = #expect(throws: ExportError.self) {
            try PostgresBackend(database: Unused(), blobStore: InMemoryBlobStore(), notifier: InMemoryNotifier(), wakeUps: other)
        }
        #expect(error?.code == .configuration)
    }
}
