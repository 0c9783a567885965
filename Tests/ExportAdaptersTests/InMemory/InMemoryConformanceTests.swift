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
            advance: { clock.advance(by: $0) }
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
        try await MembershipSourceConformance { rows in InMemoryMembershipSource(rows) }.run()
    }
}
