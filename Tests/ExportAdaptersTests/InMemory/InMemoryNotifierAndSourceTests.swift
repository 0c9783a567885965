import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("InMemoryNotifier and InMemoryMembershipSource")
struct InMemoryNotifierAndSourceTests {
    @Test func theNotifierRecordsEachKeyOnce() async throws {
        let notifier = InMemoryNotifier()
        let failed = ExportNotification(
            jobID: JobID("j1")!, owner: "alice", recipient: EmailAddress("alice@example.com")!,
            content: .failed(reason: "source unavailable")
        )
        try await notifier.send(failed)
        try await notifier.send(failed)
        #expect(await notifier.sent == [failed])
        #expect(await notifier.deliveryCount(for: "j1.failed") == 1)
        #expect(await notifier.sendAttempts(for: "j1.failed") == 2)
        await notifier.removeAll()
        #expect(await notifier.sent.isEmpty)
    }

    @Test func rowsAddedOrRemovedBetweenPagesAreNeitherRepeatedNorSkipped() async throws {
        let source = InMemoryMembershipSource(["m1", "m2", "m3", "m4"].map { Fixtures.membership($0) })
        let first = try await source.memberships(of: "alice", after: nil, limit: 2)
        #expect(first.items.map(\.membershipID) == ["m1", "m2"])
        await source.insert(Fixtures.membership("m0"))
        await source.remove(membershipID: "m2", of: "alice")
        await source.insert(Fixtures.membership("m5"))
        let second = try await source.memberships(of: "alice", after: first.next, limit: 10)
        #expect(second.items.map(\.membershipID) == ["m3", "m4", "m5"])
        #expect(second.next == nil)
    }

    @Test func onlyTheOwnersRowsAreServed() async throws {
        let source = InMemoryMembershipSource([Fixtures.membership("m1"), Fixtures.membership("m2", owner: "bob")])
        #expect(try await source.memberships(of: "bob", after: nil, limit: 10).items.map(\.membershipID) == ["m2"])
        #expect(await source.all(of: "alice").map(\.membershipID) == ["m1"])
    }

    @Test func anInjectedPageFailureCarriesItsRetryability() async throws {
        let source = InMemoryMembershipSource([Fixtures.membership("m1")])
        source.faults.failNext(.page, with: ExportError(.timeout, "database timed out"))
        let error = await #expect(throws: ExportError.self) { try await source.memberships(of: "alice", after: nil, limit: 10) }
        #expect(error?.isRetryable == true)
        #expect(try await source.memberships(of: "alice", after: nil, limit: 10).items.count == 1)
    }
}
