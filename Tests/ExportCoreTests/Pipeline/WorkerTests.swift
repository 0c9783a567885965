import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("ExportWorker")
struct WorkerTests {
    @Test("happy path: request → worker → CSV stored byte for byte → one 'ready' e-mail with a working link → acknowledged")
    func happyPath() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        #expect(try await harness.worker().processAvailable() == 1)

        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .succeeded)
        #expect(job.attempt == 1)
        #expect(try await harness.file(of: ticket.jobID) == Harness.expectedCSV)
        let result = try #require(job.result)
        let bytes = Array(Harness.expectedCSV.utf8)
        #expect(result.rows == 3)
        #expect(result.bytes == Int64(bytes.count))
        #expect(result.sha256 == SHA256Hasher.hash(bytes).hexString)
        #expect(result.blobKey.rawValue == "exports/\(ticket.jobID)-1.csv")  // each attempt has its own file
        #expect(await harness.blobs.keys == [result.blobKey])
        #expect(job.rowsWritten == 3)
        #expect(job.expiresAt == Harness.t0.addingTimeInterval(7 * 24 * 3600))

        let sent = await harness.notifier.sent
        #expect(sent.count == 1)
        guard case .ready(let details) = sent.first?.content else {
            Issue.record("expected a ready notification")
            return
        }
        #expect(sent.first?.recipient.rawValue == "u1@example.com")
        #expect(details.rows == 3)
        #expect(details.expiresAt == Harness.t0.addingTimeInterval(3600))
        #expect(try await harness.blobs.download(details.link) == bytes)
        #expect(await harness.queue.visibleCount == 0)
        #expect(await harness.queue.inFlightCount == 0)
        #expect(harness.events.names == ["export.accepted", "export.started", "export.succeeded", "export.notified"])

        let link = try await harness.service.downloadLink(for: ticket.jobID, requester: "u1")
        #expect(try await harness.blobs.download(link.url) == bytes)
    }

    @Test("an export with no memberships is a header-only file")
    func emptyExport() async throws {
        let harness = Harness(memberships: [])
        let ticket = try await harness.request(columns: ["membership_id", "plan"])
        try await harness.worker().processAvailable()
        #expect(try await harness.file(of: ticket.jobID) == "membership_id,plan\r\n")
        #expect(try await harness.job(ticket.jobID).result?.rows == 0)
    }

    @Test("a transient failure is retried after the backoff delay, then succeeds with one e-mail")
    func retryThenSuccess() async throws {
        let harness = Harness()
        harness.source.faults.failNext(.page, with: ExportError(.unavailable, "database restarting"))
        let ticket = try await harness.request()
        let worker = harness.worker()
        try await worker.processAvailable()

        var job = try await harness.job(ticket.jobID)
        #expect(job.state == .retryScheduled)
        #expect(job.failure?.reason == "database restarting")
        #expect(job.lifecycle.nextAttemptAt == Harness.t0.addingTimeInterval(10))
        #expect(await harness.notifier.sent.isEmpty)
        #expect(await harness.blobs.openWriterCount == 0)
        #expect(try await worker.processAvailable() == 0)  // not due yet

        harness.clock.advance(by: .seconds(10))
        #expect(try await worker.processAvailable() == 1)
        job = try await harness.job(ticket.jobID)
        #expect(job.state == .succeeded)
        #expect(job.attempt == 2)
        #expect(job.failure == nil)
        #expect(try await harness.file(of: ticket.jobID) == Harness.expectedCSV)
        #expect(await harness.notifier.sent.count == 1)
        #expect(harness.events.names == ["export.accepted", "export.started", "export.retried", "export.started", "export.succeeded", "export.notified"])
    }

    @Test("guarantee 6: retries exhausted → failed with a reason, dead-lettered, exactly one 'failed' e-mail")
    func retriesExhausted() async throws {
        let harness = Harness()
        // `.transient`, not an environmental code: those get hours (see `environmentalFaultsHeal`).
        harness.source.faults.failAlways(.page, with: ExportError(.transient, "the database did not answer"))
        let ticket = try await harness.request()
        let worker = harness.worker()
        for delay in [10, 20, 0] {
            #expect(try await worker.processAvailable() == 1)
            harness.clock.advance(by: .seconds(Int64(delay)))
        }
        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .failed)
        #expect(job.attempt == 3)
        #expect(job.failure?.reason == "the database did not answer")
        #expect(job.lifecycle.notified)
        let dead = await harness.queue.allDeadLetters
        #expect(dead.map(\.message.jobID) == [ticket.jobID])
        #expect(dead.first?.reason == "the database did not answer")
        let sent = await harness.notifier.sent
        #expect(sent.count == 1)
        // The e-mail says a fixed sentence for the code; the internal message stays in the record and the dead letter.
        #expect(sent.first?.content == .failed(reason: try #require(job.failure).userFacingReason))
        #expect(sent.first?.content == .failed(reason: "A service the export needs was unavailable. Request a new export later."))
        #expect(await harness.blobs.keys.isEmpty)
        #expect(await harness.blobs.openWriterCount == 0)

        // Redriving the dead letter neither re-runs the export nor e-mails again: the job was told, so
        // the redriven message is a duplicate and is acknowledged (`ExportService.retry` runs it again).
        try await harness.queue.redrive(nil)
        try await worker.processAvailable()
        #expect(await harness.notifier.sent.count == 1)
        #expect(await harness.queue.allDeadLetters.isEmpty)
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)
    }

    @Test("a permanent error fails the job at once")
    func permanentError() async throws {
        let harness = Harness()
        harness.blobs.faults.failNext(.beginWrite, with: ExportError(.permissionDenied, "bucket policy denies writes"))
        let ticket = try await harness.request()
        try await harness.worker().processAvailable()
        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .failed)
        #expect(job.attempt == 1)
        #expect(job.failure?.code == "permissionDenied")
        #expect(await harness.notifier.sent.map(\.kind) == [.failed])
    }

    @Test("a source that returns another user's rows stops the export: nobody sees foreign data")
    func foreignRows() async throws {
        let foreign = Membership(
            membershipID: "x", userID: "u2", organizationID: "o", organizationName: "n", plan: "p", role: "r", status: "s",
            startedAt: Harness.t0)
        struct LeakySource: MembershipSource {
            let row: Membership
            func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
                Page(items: [row], next: nil)
            }
        }
        let harness = Harness()
        let ticket = try await harness.request()
        try await harness.worker(source: LeakySource(row: foreign)).processAvailable()
        #expect(try await harness.job(ticket.jobID).state == .failed)
        #expect(await harness.blobs.keys.isEmpty)
    }

    @Test("workers run exports concurrently up to their limit")
    func concurrency() async throws {
        let harness = Harness()
        var tickets: [ExportTicket] = []
        for user in ["u1", "u2", "u3"] { tickets.append(try await harness.request(UserID(user))) }
        let worker = harness.worker(concurrency: 2)
        #expect(try await worker.processAvailable() == 2)
        #expect(try await worker.processAvailable() == 1)
        for ticket in tickets { #expect(try await harness.job(ticket.jobID).state == .succeeded) }
        #expect(await harness.notifier.sent.count == 3)
    }

    @Test("a full disk for an hour does not fail the export: environmental faults are retried without spending attempts")
    func environmentalFaultsHeal() async throws {
        let harness = Harness()  // maxAttempts 3
        harness.blobs.faults.failAlways(.beginWrite, with: ExportError(.storageFull, "no space left on device"))
        let ticket = try await harness.request()
        let worker = harness.worker()
        var deliveries = 0
        let start = harness.clock.now()
        while harness.clock.now().timeIntervalSince(start) < 3600 {
            deliveries += try await worker.processAvailable()
            harness.clock.advance(by: .seconds(30))
        }
        var job = try await harness.job(ticket.jobID)
        #expect(deliveries > 3, "fewer deliveries than the attempt budget: the test proves nothing")
        #expect(job.state == .retryScheduled && job.lifecycle.failures == 0 && job.lifecycle.deferrals >= deliveries - 1)
        #expect(await harness.notifier.sent.isEmpty, "the user was told of a failure that was not one")
        harness.blobs.faults.reset(.beginWrite)
        for _ in 0..<20 where try await harness.job(ticket.jobID).state != .succeeded {
            harness.clock.advance(by: .seconds(300))
            _ = try await worker.processAvailable()
        }
        job = try await harness.job(ticket.jobID)
        #expect(job.state == .succeeded && job.lifecycle.notified)
        #expect(await harness.notifier.sent.map(\.kind) == [.ready])
    }

    @Test("a failed job retried by its owner runs with a fresh budget and is told its new outcome once")
    func retryFailedJob() async throws {
        let harness = Harness()
        harness.source.faults.failNext(.page, with: ExportError(.corruptData, "bad row", isRetryable: false))
        let ticket = try await harness.request()
        try await harness.worker().processAvailable()
        #expect(try await harness.job(ticket.jobID).state == .failed)
        await #expect(throws: ExportError.self) { try await harness.service.retry(ticket.jobID, requester: "someone-else") }
        let queued = try await harness.service.retry(ticket.jobID, requester: "u1")
        #expect(queued.state == .queued && queued.failure == nil && queued.expiresAt == nil)
        let again = await #expect(throws: ExportError.self) { try await harness.service.retry(ticket.jobID, requester: "u1") }
        #expect(again?.code == .illegalTransition)
        try await harness.worker().processAvailable()
        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .succeeded && job.lifecycle.notified && job.lifecycle.retries == 1)
        #expect(await harness.notifier.sent.map(\.kind) == [.failed, .ready])
    }
}
