// The code of Docs/Testing-With-Fakes.md, compiled and run so the guide cannot rot.
// Keep the two in step: each test below is one block of the guide.
import ExportAdapters
import ExportConformance
import ExportCore
import Foundation
import Testing

@Suite("Docs: Testing with fakes")
struct TestingWithFakesDocTests {
    // MARK: Inspecting what was stored and sent

    @Test func inspecting() async throws {
        let clock = ManualClock()
        let queue = InMemoryQueue(clock: clock)
        let blobs = InMemoryBlobStore(clock: clock)
        let notifier = InMemoryNotifier()

        // … the code under test enqueues a job, writes a file and notifies …
        let jobID = JobID("job-1")!
        try await queue.enqueue(QueueMessage(jobID: jobID))
        let key = BlobKey("exports/alice/job-1.csv")!
        let writer = try await blobs.beginWrite(key: key, contentType: "text/csv")
        try await writer.append(Array("id\r\n1\r\n".utf8))
        _ = try await writer.finish()
        let link = try await blobs.downloadLink(for: key, filename: "memberships.csv", expiresIn: .seconds(3600))
        try await notifier.send(
            ExportNotification(
                jobID: jobID, owner: "alice", recipient: EmailAddress("alice@example.com")!,
                content: .ready(.init(link: link.url, expiresAt: link.expiresAt, rows: 1, bytes: 7, format: .csv))
            )
        )

        #expect(await queue.pendingMessages == [QueueMessage(jobID: jobID)])
        #expect(await blobs.contents(of: key) == Array("id\r\n1\r\n".utf8))
        #expect(await blobs.openWriterCount == 0)
        #expect(try await blobs.download(link.url) == Array("id\r\n1\r\n".utf8))
        #expect(await notifier.deliveryCount(for: "job-1.ready") == 1)
        #expect(await notifier.sent.first?.recipient.rawValue == "alice@example.com")
    }

    // MARK: Making a call fail

    @Test func injectingFailures() async throws {
        let store = InMemoryJobStore()
        store.faults.failNext(.update, with: ExportError(.versionConflict, "someone else won"))
        store.faults.failAlways(.list, with: ExportError(.unavailable, "database down"))

        var job = try await store.create(
            ExportJob(
                id: JobID("job-1")!, owner: "alice", recipient: EmailAddress("alice@example.com")!,
                options: ExportOptions(), createdAt: Date(timeIntervalSince1970: 1_767_225_600)
            )
        ).job
        job.rowsWritten = 10
        await #expect(throws: ExportError.self) { try await store.update(job) }  // injected: nothing stored
        #expect(try await store.update(job).version == 2)  // the next call goes through
        await #expect(throws: ExportError.self) { try await store.list(owner: "alice", after: nil, limit: 10) }
        #expect(store.faults.callCount(.update) == 2)
        store.faults.reset()
    }

    // MARK: Controlling time

    @Test func controllingTime() async throws {
        let clock = ManualClock()
        let queue = InMemoryQueue(clock: clock)
        try await queue.enqueue(QueueMessage(jobID: JobID("job-1")!))

        let first = try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero)
        #expect(await queue.inFlightCount == 1)

        clock.advance(by: .seconds(30))  // the lease runs out: the worker "died"
        let again = try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero)
        #expect(again.first?.receiveCount == 2)
        await #expect(throws: ExportError.self) { try await queue.acknowledge(first[0].receipt) }  // leaseLost

        // A task waiting on the clock (a long poll, a backoff sleep) wakes when the clock passes its deadline.
        let polling = Task { try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(20)) }
        #expect(await clock.waitForSleepers(1))  // wait (bounded) until it is parked on the clock
        clock.advance(by: .seconds(20))
        #expect(try await polling.value.isEmpty)
    }

    // MARK: Checking your own adapter

    @Test func checkingAnAdapter() async throws {
        // Replace the in-memory adapters with yours; for a real service, `advance` sleeps:
        //     advance: { try await Task.sleep(for: $0) }
        // with short leases, e.g. QueueConformance.Configuration(visibilityTimeout: .seconds(2),
        // margin: .milliseconds(500), receiveWaitTime: .seconds(1), receiveAttempts: 3).
        let clock = ManualClock()
        try await QueueConformance(
            configuration: .init(visibilityTimeout: .seconds(30)),
            makeQueue: { InMemoryQueue(clock: clock) },
            advance: { clock.advance(by: $0) },
            now: { clock.now() }
        ).run()
        try await JobStoreConformance { InMemoryJobStore() }.run()
        try await BlobStoreConformance(makeStore: { InMemoryBlobStore(clock: clock) }, now: { clock.now() }).run()
        let notifier = InMemoryNotifier()
        try await NotifierConformance(
            makeNotifier: { notifier },
            deliveredCount: { await notifier.deliveryCount(for: $0) }
        ).run()
        try await MembershipSourceConformance { rows in InMemoryMembershipSource(rows) }.run()
    }
}
