import ExportAdapters
@testable import ExportAWS
@testable import ExportFileSystem
@testable import ExportInMemory
import ExportCore
import Foundation
import Testing

@Suite("DynamoDBJobStore against moto", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct DynamoDBJobStoreTests {
    static func makeStore() async throws -> DynamoDBJobStore {
        let peer = try await MotoServer.peer()
        let store = DynamoDBJobStore(tableName: MotoServer.uniqueName("jobs"), aws: MotoServer.configuration(peer))
        try await store.createTable()
        try await store.createTable()
        return store
    }

    static let start = Date(timeIntervalSince1970: 1_767_225_600)

    static func job(_ owner: String = "user-1", at offset: TimeInterval = 0, key: String? = nil) -> ExportJob {
        ExportJob(
            id: JobID.random(), owner: UserID(rawValue: owner), recipient: EmailAddress("a@example.com")!,
            options: ExportOptions(), createdAt: start.addingTimeInterval(offset), uniqueKey: key
        )
    }

    static func cancelled(_ job: ExportJob) throws -> ExportJob {
        var job = job
        _ = try job.lifecycle.requestCancel()
        return job
    }

    @Test("Create is idempotent by id; updates are compare-and-swap on the version")
    func createAndUpdate() async throws {
        let store = try await Self.makeStore()
        let job = Self.job()
        let created = try await store.create(job)
        guard case .created(let stored) = created else { Issue.record("expected .created"); return }
        #expect(stored.version == 1)
        #expect(try await store.create(job) == .existing(stored))
        #expect(try await store.get(job.id) == stored)
        #expect(try await store.get(JobID.random()) == nil)

        var changed = stored
        changed.rowsWritten = 42
        changed.owner = UserID(rawValue: "someone-else")
        let updated = try await store.update(changed)
        #expect(updated.version == 2)
        #expect(updated.owner == job.owner, "the owner never changes")
        #expect(try await store.get(job.id) == updated)

        let conflict = await #expect(throws: ExportError.self) { _ = try await store.update(changed) }
        #expect(conflict?.code == .versionConflict)
        #expect(conflict?.isRetryable == true)
        let missing = await #expect(throws: ExportError.self) { _ = try await store.update(Self.job()) }
        #expect(missing?.code == .notFound)
    }

    @Test("A unique key is held by one active job at a time, even under concurrent creates, and released when it ends")
    func uniqueKeys() async throws {
        let store = try await Self.makeStore()
        let contenders = (0..<6).map { _ in Self.job(key: "owner-1-active") }
        let outcomes = try await withThrowingTaskGroup(of: JobCreation.self) { group in
            for job in contenders { group.addTask { try await store.create(job) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { if case .created(let job) = $0 { job } else { nil } }
        #expect(winners.count == 1)
        let winner = try #require(winners.first)
        #expect(outcomes.allSatisfy { $0.job.id == winner.id })

        _ = try await store.update(try Self.cancelled(winner))
        let next = Self.job(key: "owner-1-active")
        guard case .created = try await store.create(next) else { Issue.record("the key was not released"); return }
    }

    @Test("A key whose holder vanished without releasing it (a crash) is taken over")
    func staleKeyTakeover() async throws {
        let store = try await Self.makeStore()
        _ = try await store.call("PutItem", [
            "TableName": .string(store.tableName),
            "Item": ["pk": ["S": "unique#k"], "kind": ["S": "unique"], "jobID": .object(["S": .string(JobID.random().rawValue)])],
        ])
        let next = Self.job(key: "k")
        guard case .created = try await store.create(next) else { Issue.record("the stale key blocked a new job"); return }
        let blocked = Self.job(key: "k")
        #expect(try await store.create(blocked) == .existing(try #require(try await store.get(next.id))))
    }

    @Test("Owner listing is newest first with cursors, and only the owner's jobs")
    func listing() async throws {
        let store = try await Self.makeStore()
        var mine: [ExportJob] = []
        for index in 0..<5 {
            let job = Self.job(at: TimeInterval(index % 3))
            mine.append(try await store.create(job).job)
        }
        _ = try await store.create(Self.job("user-2"))
        let expected = mine.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        var seen: [ExportJob] = []
        var cursor: PageCursor?
        var pages = 0
        repeat {
            let page = try await store.list(owner: UserID(rawValue: "user-1"), after: cursor, limit: 2)
            seen += page.items
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 10
        #expect(seen.map(\.id) == expected.map(\.id))
        #expect(pages == 3)
        #expect(try await store.list(owner: UserID(rawValue: "nobody"), after: nil, limit: 5).items.isEmpty)
        await #expect(throws: ExportError.self) {
            _ = try await store.list(owner: UserID(rawValue: "user-1"), after: PageCursor("junk"), limit: 2)
        }
    }

    @Test("stale() finds old jobs in the given states; deleteExpired() removes only expired jobs")
    func staleAndExpiry() async throws {
        let store = try await Self.makeStore()
        let old = try await store.create(Self.job(at: 0)).job
        let recent = try await store.create(Self.job(at: 600)).job
        let found = try await store.stale(in: [.queued], updatedBefore: Self.start.addingTimeInterval(300), limit: 10)
        #expect(found.map(\.id) == [old.id])
        #expect(try await store.stale(in: [.running], updatedBefore: Self.start.addingTimeInterval(3600), limit: 10).isEmpty)

        var expiring = try Self.cancelled(recent)
        expiring.expiresAt = Self.start.addingTimeInterval(1000)
        _ = try await store.update(expiring)
        #expect(try await store.expired(now: Self.start.addingTimeInterval(999), limit: 10).isEmpty)
        let expired = try await store.expired(now: Self.start.addingTimeInterval(1000), limit: 10)
        #expect(expired.map(\.id) == [recent.id])
        #expect(try await store.get(recent.id) != nil, "listing expired jobs must not delete them")
        for job in expired { try await store.delete(job) }
        #expect(try await store.get(recent.id) == nil)
        #expect(try await store.get(old.id) != nil)
    }
}
