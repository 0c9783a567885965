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
        try await BlobStoreConformance(makeStore: { InMemoryBlobStore(clock: clock) }, now: { clock.now() }).run()
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
