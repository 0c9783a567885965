import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("InMemoryJobStore")
struct InMemoryJobStoreTests {
    @Test func inspectionShowsWhatWasStored() async throws {
        let store = InMemoryJobStore()
        let older = Fixtures.job("j1")
        let newer = Fixtures.job("j2", createdAt: older.createdAt.addingTimeInterval(60))
        _ = try await store.create(newer)
        _ = try await store.create(older)
        #expect(await store.allJobs.map(\.id) == [older.id, newer.id])
        #expect(await store.job(older.id)?.version == 1)
        #expect(await store.count == 2)
        await store.removeAll()
        #expect(await store.allJobs.isEmpty)
    }

    @Test func inspectionBypassesInjectedFaults() async throws {
        let store = InMemoryJobStore()
        _ = try await store.create(Fixtures.job("j1"))
        store.faults.failAlways(.get, with: ExportError(.unavailable, "down"))
        await #expect(throws: ExportError.self) { try await store.get(JobID("j1")!) }
        #expect(await store.job(JobID("j1")!) != nil)
    }

    @Test func aForgedCursorIsATypedError() async throws {
        let store = InMemoryJobStore()
        let error = await #expect(throws: ExportError.self) {
            try await store.list(owner: "alice", after: PageCursor("not a cursor"), limit: 10)
        }
        #expect(error?.code == .invalidRequest)
        let badLimit = await #expect(throws: ExportError.self) { try await store.list(owner: "alice", after: nil, limit: 0) }
        #expect(badLimit?.code == .invalidRequest)
    }

    @Test func deletingAnExpiredJobReleasesItsUniqueKey() async throws {
        let store = InMemoryJobStore()
        var job = Fixtures.job("j1")
        job.uniqueKey = "alice/csv"
        job = try await store.create(job).job
        job.expiresAt = job.createdAt
        _ = try await store.update(job)
        _ = try await store.deleteExpired(now: job.createdAt, limit: 10)
        var successor = Fixtures.job("j2")
        successor.uniqueKey = "alice/csv"
        guard case .created = try await store.create(successor) else {
            Issue.record("the key of a deleted job was not released")
            return
        }
    }
}
