import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("Cancellation, shutdown and reconciliation")
struct CancelAndRecoveryTests {
    @Test("cancel while queued: cancelled at once; the worker later just acknowledges the message")
    func cancelQueued() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let outcome = try await harness.service.cancel(ticket.jobID, requester: "u1")
        #expect(outcome.action == .cancelled)
        #expect(outcome.job.state == .cancelled)
        #expect(try await harness.service.cancel(ticket.jobID, requester: "u1").action == .alreadyCancelled)
        #expect(try await harness.worker().processAvailable() == 1)
        #expect(try await harness.job(ticket.jobID).state == .cancelled)
        #expect(harness.source.faults.callCount(.page) == 0)
        #expect(await harness.notifier.sent.isEmpty)
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)
    }

    @Test("cancel while running: the worker stops at its next heartbeat and removes the partial file")
    func cancelRunning() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let gated = GatedSource(harness.source)
        let worker = harness.worker(source: gated)
        let run = Task { _ = try? await worker.processAvailable() }
        await gated.waitForArrival()
        await harness.waitForSleepers(1)  // the heartbeat timer
        let outcome = try await harness.service.cancel(ticket.jobID, requester: "u1")
        #expect(outcome.action == .stopping)
        harness.clock.advance(by: .seconds(21))  // past the heartbeat interval (a third of the lease)
        await run.value  // the heartbeat stopped the export while its page was still held
        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .cancelled)
        #expect(await harness.blobs.keys.isEmpty)
        #expect(await harness.blobs.openWriterCount == 0)
        #expect(await harness.notifier.sent.isEmpty)
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)
        #expect(harness.events.names.last == "export.cancelled")
        // A finished job cannot be cancelled.
        let done = try await harness.request("u2")
        try await harness.worker().processAvailable()
        let error = await #expect(throws: ExportError.self) { try await harness.service.cancel(done.jobID, requester: "u2") }
        #expect(error?.code == .illegalTransition)
    }

    @Test("heartbeats keep the lease alive while one page takes longer than the lease")
    func heartbeats() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let gated = GatedSource(harness.source)
        let run = Task { _ = try? await harness.worker(source: gated).processAvailable() }
        await gated.waitForArrival()
        // The first page is held for 100 s, past the 60 s lease; the timer heartbeats every 20 s.
        for _ in 0..<5 {
            await harness.waitForSleepers(1)
            harness.clock.advance(by: .seconds(20))
        }
        await harness.waitForSleepers(1)
        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .running)
        #expect(job.lifecycle.leaseExpiresAt == Harness.t0.addingTimeInterval(160))
        #expect(try await harness.worker().processAvailable() == 0)  // nobody can take the job over
        gated.open()
        await run.value
        #expect(try await harness.job(ticket.jobID).state == .succeeded)
        #expect(try await harness.job(ticket.jobID).attempt == 1)
        #expect(harness.events.all.contains(.progress(ticket.jobID, rows: 0)))
        #expect(await harness.notifier.sent.count == 1)
    }

    @Test("the heartbeat covers the finishing step: a notifier slower than the lease never lets the message come back")
    func heartbeatCoversNotification() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let slow = SlowNotifier(harness.notifier)
        let run = Task { _ = try? await harness.worker(notifier: slow).processAvailable() }
        await slow.waitForArrival()
        // The send is held for 100 s, past the 60 s lease; the finishing step's heartbeat beats every 20 s.
        for _ in 0..<5 {
            await harness.waitForSleepers(1)
            harness.clock.advance(by: .seconds(20))
        }
        await harness.waitForSleepers(1)
        #expect(try await harness.worker().processAvailable() == 0, "the message came back to another worker mid-send")
        #expect(await harness.queue.inFlightCount == 1)
        slow.open()
        await run.value
        #expect(try await harness.job(ticket.jobID).lifecycle.notified)
        #expect(await harness.notifier.sent.count == 1)
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)
    }

    @Test("one failed heartbeat does not cost the attempt while the lease still has time")
    func heartbeatSurvivesPassingFailure() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let gated = GatedSource(harness.source)
        let run = Task { _ = try? await harness.worker(source: gated).processAvailable() }
        await gated.waitForArrival()
        // The second beat's lease extension fails once (a throttled queue); the third renews again.
        for beat in 0..<4 {
            await harness.waitForSleepers(1)
            if beat == 1 { harness.queue.faults.failNext(.extendLease, with: ExportError(.throttled, "slow down")) }
            harness.clock.advance(by: .seconds(20))
        }
        await harness.waitForSleepers(1)
        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .running)
        #expect(job.lifecycle.leaseExpiresAt == Harness.t0.addingTimeInterval(140))
        gated.open()
        await run.value
        let done = try await harness.job(ticket.jobID)
        #expect(done.state == .succeeded)
        #expect(done.attempt == 1)
    }

    @Test("graceful shutdown: running exports finish within the grace period")
    func shutdownLetsExportsFinish() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let gated = GatedSource(harness.source)
        let worker = harness.worker(source: gated)
        let run = Task { try? await worker.run() }
        await gated.waitForArrival()
        worker.shutdown()
        gated.open()
        await run.value
        #expect(try await harness.job(ticket.jobID).state == .succeeded)
        #expect(await harness.notifier.sent.count == 1)
    }

    @Test("graceful shutdown: exports still running after the grace period are handed back, not counted", arguments: [false, true])
    func shutdownHandsBack(interruptedWithExportCancelled: Bool) async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        // Either way the worker is stopping, not the user cancelling: the job goes back, uncounted.
        let gated = GatedSource(harness.source) {
            interruptedWithExportCancelled ? ExportError(.cancelled, "interrupted while waiting") as any Error : CancellationError()
        }
        let worker = harness.worker(source: gated)
        let run = Task { try? await worker.run() }
        await gated.waitForArrival()
        await harness.waitForSleepers(1)  // the heartbeat timer
        worker.shutdown()
        await harness.waitForSleepers(2)  // and the grace timer
        harness.clock.advance(by: .seconds(30))
        await run.value
        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .queued)
        #expect(job.attempt == 0)
        #expect(await harness.queue.visibleCount == 1)
        #expect(await harness.blobs.openWriterCount == 0)
        try await harness.worker().processAvailable()
        #expect(try await harness.job(ticket.jobID).state == .succeeded)
    }

    @Test("guarantee 2: a job recorded but never queued is found by the reconciler and finished")
    func recordedNeverQueued() async throws {
        let harness = Harness()
        harness.queue.faults.failNext(.enqueue, with: ExportError(.unavailable, "queue down"))
        await #expect(throws: ExportError.self) { try await harness.request() }
        let job = try #require(await harness.jobs.allJobs.first)
        #expect(job.state == .queued)
        #expect(await harness.queue.pendingMessages.isEmpty)

        #expect(try await harness.reconciler().reconcile().requeued.isEmpty)  // too early to tell
        harness.clock.advance(by: .seconds(601))
        #expect(try await harness.reconciler().reconcile().requeued == [job.id])
        #expect(try await harness.reconciler().reconcile().requeued.isEmpty)  // not twice in a row
        try await harness.worker().processAvailable()
        #expect(try await harness.job(job.id).state == .succeeded)
        #expect(await harness.notifier.sent.count == 1)
    }

    @Test("one live message per job: a backlog older than requeueAfter is not queued again, however many passes run")
    func backlogIsNotMultiplied() async throws {
        let harness = Harness()
        var tickets: [ExportTicket] = []
        for owner: UserID in ["u1", "u2", "u3", "u4", "u5"] { tickets.append(try await harness.request(owner)) }
        // A job whose message was lost: the reconciler must still queue that one, once.
        harness.queue.faults.failNext(.enqueue, with: ExportError(.unavailable, "queue down"))
        await #expect(throws: ExportError.self) { try await harness.request("u6") }
        // A job whose worker died holding the message: its lease ran out, the message comes back by
        // itself and is live all along.
        let held = try await harness.queue.receive(max: 1, visibilityTimeout: Harness.lease, waitTime: .zero)
        #expect(held.count == 1)
        for _ in 0..<5 {
            harness.clock.advance(by: .seconds(601))
            let report = try await harness.reconciler().reconcile()
            #expect(report.requeued.count <= 1, "requeued \(report.requeued.count) jobs that had a live message")
        }
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 6, "one message per job")
        while try await harness.worker(concurrency: 3).processAvailable() > 0 {}
        #expect(await harness.jobs.allJobs.allSatisfy { $0.state == .succeeded && $0.lifecycle.notified })
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)
        #expect(await harness.queue.allDeadLetters.isEmpty)
        #expect(await harness.notifier.sent.count == 6)
    }

    @Test("expiry in two stages: files deleted and the record kept as 'expired', then the record deleted; abandoned writes aborted")
    func expiry() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        try await harness.worker().processAvailable()
        let finished = try await harness.job(ticket.jobID)
        let key = try #require(finished.result?.blobKey)
        _ = try await harness.blobs.beginWrite(key: try BlobKey(validating: "exports/abandoned.csv"), contentType: "text/csv")
        harness.clock.advance(by: .seconds(7 * 24 * 3600))
        let report = try await harness.reconciler().reconcile()
        #expect(report.expired == [ticket.jobID])
        #expect(report.purged.isEmpty)
        #expect(report.abortedWrites == 1)
        #expect(await harness.blobs.contents(of: key) == nil)
        #expect(await harness.blobs.keys.isEmpty)

        // The record stays, marked expired with its result metadata, so the download route can say 410.
        let expired = try await harness.service.status(of: ticket.jobID, requester: "u1")
        #expect(expired.state == .succeeded)
        #expect(expired.expiredAt == finished.expiresAt)
        #expect(expired.result == finished.result)
        #expect(expired.expiresAt == harness.clock.now().addingTimeInterval(30 * 24 * 3600))
        let gone = await #expect(throws: ExportError.self) { try await harness.service.downloadLink(for: ticket.jobID, requester: "u1") }
        #expect(gone?.code == .notFound)
        #expect(try await harness.reconciler().reconcile().expired.isEmpty)  // not again

        harness.clock.advance(by: .seconds(30 * 24 * 3600))
        #expect(try await harness.reconciler().reconcile().purged == [ticket.jobID])
        #expect(await harness.jobs.count == 0)
        let error = await #expect(throws: ExportError.self) { try await harness.service.status(of: ticket.jobID, requester: "u1") }
        #expect(error?.code == .notFound)
    }

    @Test("an error on one expiring job does not strand the others: files go first, the record stays until the next pass")
    func expiryBatchSurvivesOneError() async throws {
        let harness = Harness()
        var tickets: [ExportTicket] = []
        for owner: UserID in ["u1", "u2", "u3"] { tickets.append(try await harness.request(owner)) }
        try await harness.worker(concurrency: 3).processAvailable()
        harness.clock.advance(by: .seconds(7 * 24 * 3600))
        // The store refuses the first tombstone write.
        harness.jobs.faults.failNext(.update, with: ExportError(.unavailable, "table throttled"))
        await #expect(throws: ExportError.self) { try await harness.reconciler().reconcile() }
        let leftovers = await harness.blobs.keys
        #expect(leftovers.isEmpty, "files left: \(leftovers)")
        var records = await harness.jobs.allJobs
        #expect(records.count == 3, "a record went before its tombstone was written")
        #expect(records.filter { $0.expiredAt != nil }.count == 2)
        // The next pass finishes the one whose tombstone failed: every expired id still answers 410.
        let report = try await harness.reconciler().reconcile()
        #expect(report.expired.count == 1)
        records = await harness.jobs.allJobs
        #expect(records.count == 3 && records.allSatisfy { $0.expiredAt != nil })
    }

    @Test("a file delete that fails keeps the job's record, and the next pass deletes the file")
    func failedFileDeleteKeepsRecord() async throws {
        let harness = Harness()
        var tickets: [ExportTicket] = []
        for owner: UserID in ["u1", "u2"] { tickets.append(try await harness.request(owner)) }
        try await harness.worker(concurrency: 2).processAvailable()
        harness.clock.advance(by: .seconds(7 * 24 * 3600))
        harness.blobs.faults.failNext(.delete, with: ExportError(.unavailable, "bucket throttled"))
        await #expect(throws: ExportError.self) { try await harness.reconciler().reconcile() }
        // The job whose file could not be deleted is not a tombstone yet: its record still names the file.
        let left = await harness.blobs.keys
        #expect(left.count == 1)
        let records = await harness.jobs.allJobs
        let pending = records.filter { $0.expiredAt == nil }
        #expect(pending.count == 1 && pending.first?.result?.blobKey == left.first)
        try await harness.reconciler().reconcile()
        #expect(await harness.blobs.keys.isEmpty, "the file outlived its retention")
        #expect(await harness.jobs.allJobs.allSatisfy { $0.expiredAt != nil })
    }
}
