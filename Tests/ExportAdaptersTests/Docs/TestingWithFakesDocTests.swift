// The code of Docs/Testing-With-Fakes.md, compiled and run so the guide cannot rot. Each region
// between the markers is one of the guide's Swift blocks, and `guidePrintsThisCode` checks that the
// guide prints exactly these regions, in order.
import ExportAdapters
import ExportConformance
import ExportCore
import Foundation
import Testing

/// The guide's stand-in for the host's code under test: enqueues a job, writes a file, notifies.
private func codeUnderTest(_ queue: InMemoryQueue, _ blobs: InMemoryBlobStore, _ notifier: InMemoryNotifier) async throws
    -> (JobID, BlobKey, DownloadLink)
{
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
    return (jobID, key, link)
}

@Suite("Docs: Testing with fakes")
struct TestingWithFakesDocTests {
    @Test("Docs/Testing-With-Fakes.md prints the code of this file's regions verbatim, block for block")
    func guidePrintsThisCode() throws {
        let blocks = try DocBlocks.swiftBlocks("Docs/Testing-With-Fakes.md")
        let regions = try DocBlocks.regions("Testing-With-Fakes", in: #filePath)
        #expect(regions.count == 4)
        #expect(blocks == regions, "the guide's Swift blocks are not this file's regions")
    }

    @Test func inspecting() async throws {
        // Testing-With-Fakes block begins
        let clock = ManualClock()
        let queue = InMemoryQueue(clock: clock)
        let blobs = InMemoryBlobStore(clock: clock)
        let notifier = InMemoryNotifier()

        let (jobID, key, link) = try await codeUnderTest(queue, blobs, notifier)  // yours: enqueues, writes, notifies

        #expect(await queue.pendingMessages == [QueueMessage(jobID: jobID)])
        #expect(await blobs.contents(of: key) == Array("id\r\n1\r\n".utf8))
        #expect(await blobs.openWriterCount == 0)  // no writer left unfinished
        #expect(try await blobs.download(link.url) == Array("id\r\n1\r\n".utf8))
        #expect(await notifier.deliveryCount(for: "job-1.ready") == 1)  // exactly one e-mail
        // Testing-With-Fakes block ends
        #expect(await notifier.sent.first?.recipient.rawValue == "alice@example.com")
    }

    @Test func injectingFailures() async throws {
        // Testing-With-Fakes block begins
        let store = InMemoryJobStore()
        store.faults.failNext(.update, with: ExportError(.versionConflict, "someone else won"))
        store.faults.failAlways(.list, with: ExportError(.unavailable, "database down"))

        let created = ExportJob(
            id: JobID("job-1")!, owner: "alice", recipient: EmailAddress("alice@example.com")!, options: ExportOptions(),
            createdAt: Date(timeIntervalSince1970: 1_767_225_600))
        var job = try await store.create(created).job
        job.rowsWritten = 10
        await #expect(throws: ExportError.self) { try await store.update(job) }  // injected: nothing stored
        #expect(try await store.update(job).version == 2)  // the next call goes through
        await #expect(throws: ExportError.self) { try await store.list(owner: "alice", after: nil, limit: 10) }
        #expect(store.faults.callCount(.update) == 2)
        store.faults.reset()
        // Testing-With-Fakes block ends
    }

    @Test func controllingTime() async throws {
        // Testing-With-Fakes block begins
        let clock = ManualClock()  // starts at 2026-01-01T00:00:00Z
        let queue = InMemoryQueue(clock: clock)
        try await queue.enqueue(QueueMessage(jobID: JobID("job-1")!))

        let first = try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero)
        clock.advance(by: .seconds(30))  // the lease runs out: the worker "died"
        let again = try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero)
        #expect(again.first?.receiveCount == 2)
        await #expect(throws: ExportError.self) { try await queue.acknowledge(first[0].receipt) }  // leaseLost

        let polling = Task { try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .seconds(20)) }
        #expect(await clock.waitForSleepers(1))  // wait (bounded) until it is parked on the clock
        clock.advance(by: .seconds(20))
        #expect(try await polling.value.isEmpty)
        // Testing-With-Fakes block ends
    }

    @Test func checkingAnAdapter() async throws {
        // Testing-With-Fakes block begins
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
        // Testing-With-Fakes block ends
    }
}
