import ExportAdapters
import ExportCore
import Foundation
import Synchronization
import Testing

/// Failures outside the export itself (the notifier, the job store, the queue) end in a readable
/// state within a bounded number of deliveries, and never touch a job that already succeeded.
@Suite("Delivery failures")
struct DeliveryFailureTests {
    @Test("guarantee 6: a notifier that refuses the 'failed' e-mail for good: dead-lettered at once, pending, sent once it heals")
    func permanentNotifierFailure() async throws {
        let harness = Harness()
        harness.blobs.faults.failNext(.beginWrite, with: ExportError(.permissionDenied, "bucket policy denies writes"))
        harness.notifier.faults.failAlways(.send, with: ExportError(.permanent, "mailbox does not exist"))
        let ticket = try await harness.request()
        #expect(try await harness.worker().processAvailable() == 1)

        var job = try await harness.job(ticket.jobID)
        #expect(job.state == .failed)
        #expect(job.failure?.code == "permissionDenied")
        #expect(job.notificationPending && job.notificationFailure?.code == "permanent")
        let dead = await harness.queue.allDeadLetters
        #expect(dead.map(\.message.jobID) == [ticket.jobID])
        #expect(dead.first?.reason.contains("bucket policy denies writes") == true)
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)
        let pending = try #require(harness.events.all.last { $0.name == .notificationPending })
        #expect(pending.code == .permanent && pending.notification == .failed)

        // The cause is fixed (the mailbox exists now): the reconciler's next pass sends it, once.
        harness.notifier.faults.reset(.send)
        harness.clock.advance(by: .seconds(601))
        #expect(try await harness.reconciler().reconcile().notified == [ticket.jobID])
        #expect(try await harness.reconciler().reconcile().notified.isEmpty)
        job = try await harness.job(ticket.jobID)
        #expect(job.lifecycle.notified && job.notificationFailure == nil)
        #expect(await harness.notifier.sent.map(\.kind) == [.failed])
        #expect(await harness.queue.allDeadLetters.count == 1)
    }

    @Test("a notifier that refuses the 'ready' e-mail for good: acknowledged, not dead-lettered; the job stays succeeded and pending")
    func permanentReadyFailure() async throws {
        let harness = Harness()
        harness.notifier.faults.failAlways(.send, with: ExportError(.permanent, "recipient rejected"))
        let ticket = try await harness.request()
        try await harness.worker().processAvailable()
        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .succeeded)
        #expect(!job.lifecycle.notified && job.notificationFailure?.code == "permanent")
        #expect(try await harness.file(of: ticket.jobID) == Harness.expectedCSV)
        #expect(await harness.queue.allDeadLetters.isEmpty, "a succeeded job is not a dead letter")
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)
        #expect(harness.events.names.suffix(2) == ["export.succeeded", "export.notificationPending"])
        let pending = try #require(harness.events.all.first { $0.name == .notificationPending })
        #expect(pending.code == .permanent && pending.notification == .ready)
        // Still failing: each pass tries again and records it; nothing is sent.
        harness.clock.advance(by: .seconds(601))
        #expect(try await harness.reconciler().reconcile().notified.isEmpty)
        #expect(await harness.notifier.sent.isEmpty)
    }

    @Test("a notifier down for twice the delivery budget, then healed: exactly one e-mail per job")
    func longOutageEndsInOneEmailEach() async throws {
        let harness = Harness()
        harness.notifier.faults.failAlways(.send, with: ExportError(.unavailable, "smtp down"))
        var tickets: [ExportTicket] = []
        for owner: UserID in ["u1", "u2", "u3"] { tickets.append(try await harness.request(owner)) }
        let worker = harness.worker(concurrency: 3, maxDeliveries: 3)
        // Six deliveries' worth of outage (twice the budget of 3), the worker draining what comes back.
        for _ in 0..<6 {
            _ = try await worker.processAvailable()
            harness.clock.advance(by: .seconds(120))
        }
        for ticket in tickets {
            let job = try await harness.job(ticket.jobID)
            #expect(job.state == .succeeded && job.notificationPending && job.notificationFailure?.code == "unavailable")
        }
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount + harness.queue.allDeadLetters.count == 0)
        // Passes during the outage record it and send nothing.
        harness.clock.advance(by: .seconds(601))
        #expect(try await harness.reconciler().reconcile().notified.isEmpty)
        harness.notifier.faults.reset(.send)
        harness.clock.advance(by: .seconds(601))
        #expect(Set(try await harness.reconciler().reconcile().notified) == Set(tickets.map(\.jobID)))
        harness.clock.advance(by: .seconds(601))
        #expect(try await harness.reconciler().reconcile().notified.isEmpty)
        let sent = await harness.notifier.sent
        #expect(sent.count == 3 && Set(sent.map(\.jobID)) == Set(tickets.map(\.jobID)) && sent.allSatisfy { $0.kind == .ready })
    }

    @Test("a duplicate message past maxDeliveries never ends a job another worker is running under a live lease")
    func duplicateNeverEndsLiveJob() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        // Worker A holds the original message and runs the job under a live lease.
        let held = try await harness.queue.receive(max: 1, visibilityTimeout: Harness.lease, waitTime: .zero)
        #expect(held.count == 1)
        var job = try await harness.job(ticket.jobID)
        _ = job.lifecycle.claim(now: harness.clock.now(), lease: Harness.lease, maxInterruptions: 3)
        job = try await harness.jobs.update(job)
        #expect(job.state == .running)
        // A duplicate (as the Reconciler queues) reaches worker B, whose release of it fails once.
        _ = try await harness.queue.enqueue(QueueMessage(jobID: ticket.jobID), delay: .zero)
        harness.queue.faults.failNext(.release, with: ExportError(.unavailable, "queue throttled"))
        #expect(try await harness.worker(maxDeliveries: 1).processAvailable() == 1)

        let after = try await harness.job(ticket.jobID)
        #expect(after.state == .running, "the live job was ended by a duplicate: \(after.state)")
        #expect(after.failure == nil)
        #expect(await harness.queue.allDeadLetters.isEmpty)
        #expect(await harness.notifier.sent.isEmpty)
    }

    @Test("a retryable failure that never goes away is bounded: dead-lettered after maxDeliveries, job failed with a reason")
    func boundedRetries() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        // The job record can be read but never written: every delivery fails before the export starts.
        harness.jobs.faults.failAlways(.update, with: ExportError(.unavailable, "table throttled"))
        let worker = harness.worker(maxDeliveries: 4)
        var deliveries = 0
        while await harness.queue.allDeadLetters.isEmpty, deliveries < 10 {
            deliveries += try await worker.processAvailable()
            harness.clock.advance(by: .seconds(60))
        }
        #expect(deliveries == 4)
        let dead = try #require(await harness.queue.allDeadLetters.first)
        #expect(dead.reason.contains("table throttled"))
        #expect(dead.reason.contains("gave up after 4 deliveries"))
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)

        // Once the store heals, the dead-lettered job can be marked failed by the next give-up; here it
        // could not be written, so it is still queued and the dead letter carries the reason.
        #expect(try await harness.job(ticket.jobID).state == .queued)
        harness.jobs.faults.reset()
        try await harness.queue.redrive(nil)
        #expect(try await worker.processAvailable() == 1)
        #expect(try await harness.job(ticket.jobID).state == .succeeded)
    }

    @Test("a notifier that keeps failing with a retryable error: bounded, and the job that had not ended is marked failed")
    func boundedWithJobMarkedFailed() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        // Every attempt fails permanently, and so does the "failed" e-mail… with a retryable error.
        harness.source.faults.failAlways(.page, with: ExportError(.permanent, "source schema changed"))
        harness.notifier.faults.failAlways(.send, with: ExportError(.unavailable, "smtp down"))
        let worker = harness.worker(maxDeliveries: 3)
        for _ in 0..<5 {
            try await worker.processAvailable()
            harness.clock.advance(by: .seconds(60))
        }
        #expect(await harness.queue.allDeadLetters.count == 1)
        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .failed)
        #expect(job.failure?.reason == "source schema changed")
        #expect(harness.source.faults.callCount(.page) == 1)  // the export ran once
    }

    @Test("the 'ready' e-mail failing once after success: the job stays succeeded, the e-mail is retried, sent once")
    func readyFailsOnce() async throws {
        let harness = Harness()
        harness.notifier.faults.failNext(.send, with: ExportError(.unavailable, "smtp hiccup"))
        let ticket = try await harness.request()
        let worker = harness.worker()
        try await worker.processAvailable()

        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .succeeded)
        #expect(job.failure == nil)
        // Claim, success and the pending notification's reason: no failure was recorded against the
        // succeeded job (not even a compare-and-swap that the version check had to refuse).
        #expect(harness.jobs.faults.callCount(.update) == 3)
        #expect(try await harness.job(ticket.jobID).notificationFailure?.code == "unavailable")
        #expect(await harness.notifier.sent.isEmpty)
        #expect(await harness.queue.pendingMessages.map(\.jobID) == [ticket.jobID])  // released with a backoff delay

        harness.clock.advance(by: .seconds(60))
        #expect(try await worker.processAvailable() == 1)
        #expect(await harness.notifier.sent.map(\.kind) == [.ready])
        #expect(try await harness.job(ticket.jobID).lifecycle.notified)
        #expect(try await harness.job(ticket.jobID).attempt == 1)
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)
        #expect(!harness.events.names.contains("export.retried") && !harness.events.names.contains("export.failed"))
    }

    @Test("a stalled worker that finishes its file after losing the job deletes it; one file per job")
    func staleWorkerDeletesItsFile() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let stuck = GatedSource(harness.source)
        let zombie = Task { _ = try? await harness.stalledWorker(source: stuck).processAvailable() }
        await stuck.waitForArrival()
        harness.clock.advance(by: .seconds(61))
        #expect(try await harness.worker().processAvailable() == 1)
        stuck.open()  // the stalled worker writes and finishes attempt 1's file, then finds the job taken
        await zombie.value
        let key = try #require(try await harness.job(ticket.jobID).result?.blobKey)
        #expect(key.rawValue == "exports/\(ticket.jobID)-2.csv")
        #expect(await harness.blobs.keys == [key])
        #expect(try await harness.file(of: ticket.jobID) == Harness.expectedCSV)
    }

    @Test("a cancelled job taken over from a dead worker leaves no file behind")
    func takeoverOfCancelledJobDeletesFile() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let stuck = GatedSource(harness.source)
        let dead = Task { _ = try? await harness.stalledWorker(source: stuck).processAvailable() }
        await stuck.waitForArrival()
        #expect(try await harness.service.cancel(ticket.jobID, requester: "u1").action == .stopping)
        // What the dead worker had finished before it died.
        let leftover = try BlobKey(validating: "exports/\(ticket.jobID)-1.csv")
        let writer = try await harness.blobs.beginWrite(key: leftover, contentType: "text/csv")
        try await writer.append(Array("partial".utf8))
        _ = try await writer.finish()

        harness.clock.advance(by: .seconds(61))
        #expect(try await harness.worker().processAvailable() == 1)
        #expect(try await harness.job(ticket.jobID).state == .cancelled)
        #expect(await harness.blobs.keys.isEmpty)
        stuck.fail(with: ExportError(.io, "woke up too late"))
        await dead.value
        #expect(await harness.blobs.keys.isEmpty)
        #expect(await harness.blobs.openWriterCount == 0)
    }
}
