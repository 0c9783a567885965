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

    @Test func hugeLimitsDoNotOverflow() async throws {
        let store = InMemoryJobStore()
        let first = Fixtures.job("j1")
        _ = try await store.create(first)
        _ = try await store.create(Fixtures.job("j2", createdAt: first.createdAt.addingTimeInterval(60)))
        let all = try await store.list(owner: first.owner, after: nil, limit: .max)
        #expect(all.items.count == 2)
        #expect(all.next == nil)
        let page = try await store.list(owner: first.owner, after: nil, limit: 1)
        #expect(try await store.list(owner: first.owner, after: page.next, limit: .max).items.map(\.id) == [first.id])

        let source = InMemoryMembershipSource([
            Membership(membershipID: "m1", userID: "u1", organizationID: "o", organizationName: "n", plan: "p", role: "r", status: "s", startedAt: first.createdAt),
            Membership(membershipID: "m2", userID: "u1", organizationID: "o", organizationName: "n", plan: "p", role: "r", status: "s", startedAt: first.createdAt),
        ])
        #expect(try await source.memberships(of: "u1", after: nil, limit: .max).items.count == 2)
        #expect(try await source.memberships(of: "u1", after: PageCursor("m1"), limit: .max).items.map(\.membershipID) == ["m2"])
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
        for expired in try await store.expired(now: job.createdAt, limit: 10) { try await store.delete(expired) }
        var successor = Fixtures.job("j2")
        successor.uniqueKey = "alice/csv"
        guard case .created = try await store.create(successor) else {
            Issue.record("the key of a deleted job was not released")
            return
        }
    }
}
