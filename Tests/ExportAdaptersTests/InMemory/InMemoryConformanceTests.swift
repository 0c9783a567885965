import ExportAdapters
import ExportConformance
import ExportCore
import Testing

@Suite("In-memory adapters pass the conformance suites")
struct InMemoryConformanceTests {
    @Test func jobStore() async throws {
        try await JobStoreConformance { InMemoryJobStore() }.run()
    }

    @Test func queue() async throws {
        let clock = ManualClock()
        try await QueueConformance(
            makeQueue: { InMemoryQueue(clock: clock) },
            advance: { clock.advance(by: $0) },
            now: { clock.now() }
        ).run()
    }

    @Test func blobStore() async throws {
        let clock = ManualClock()
        let store = InMemoryBlobStore(clock: clock)
        try await BlobStoreConformance(
            makeStore: { store },
            now: { clock.now() },
            fetch: { try await store.download($0) },
            advance: { clock.advance(by: $0) }
        ).run()
        #expect(await store.keys.isEmpty, "the suite deletes what it wrote")
    }

    @Test func notifier() async throws {
        let notifier = InMemoryNotifier()
        try await NotifierConformance(
            makeNotifier: { notifier },
            deliveredCount: { await notifier.deliveryCount(for: $0) }
        ).run()
    }

    @Test func membershipSource() async throws {
        let latest = Latest()
        try await MembershipSourceConformance(
            change: { inserted, deleted in
                let source = try #require(await latest.source)
                for row in inserted { await source.insert(row) }
                for row in deleted { await source.remove(membershipID: row.membershipID, of: row.userID) }
            },
            makeSource: { rows in
                let source = InMemoryMembershipSource(rows)
                await latest.set(source)
                return source
            }
        ).run()
    }

    /// The source the membership suite made last, for its `change` closure.
    actor Latest {
        var source: InMemoryMembershipSource?
        func set(_ source: InMemoryMembershipSource) { self.source = source }
    }
}
