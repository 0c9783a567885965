import ExportAdapters
import ExportCore
import ExportTestSupport
import Foundation
import Synchronization
import Testing

/// Guarantees 2 and 3: no job is lost when a worker dies, and one e-mail per export whatever happens.
@Suite("Crashes and duplicates")
struct CrashTests {
    @Test("guarantee 2: a worker that dies holding the lease → another worker finishes after the lease runs out")
    func workerDiesHoldingLease() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let stuck = GatedSource(harness.source)
        let doomed = harness.stalledWorker(source: stuck)
        let zombie = Task { _ = try? await doomed.processAvailable() }
        await stuck.waitForArrival()
        #expect(try await harness.job(ticket.jobID).state == .running)

        // Nobody else may take the job while the lease is live.
        let rescuer = harness.worker()
        #expect(try await rescuer.processAvailable() == 0)
        harness.clock.advance(by: .seconds(30))
        #expect(try await rescuer.processAvailable() == 0)

        harness.clock.advance(by: .seconds(31))
        #expect(try await rescuer.processAvailable() == 1)
        var job = try await harness.job(ticket.jobID)
        #expect(job.state == .succeeded)
        #expect(job.attempt == 2)

        // The stalled worker wakes up late: it must neither overwrite the result nor e-mail again.
        stuck.open()
        await zombie.value
        job = try await harness.job(ticket.jobID)
        #expect(job.state == .succeeded)
        #expect(job.attempt == 2)
        #expect(try await harness.file(of: ticket.jobID) == Harness.expectedCSV)
        #expect(await harness.notifier.sent.count == 1)
        #expect(await harness.blobs.openWriterCount == 0)
    }

    @Test("guarantee 3: a duplicate delivery of a finished job is acknowledged without work or a second e-mail")
    func duplicateDelivery() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        try await harness.queue.enqueue(QueueMessage(jobID: ticket.jobID))  // delivered twice
        let worker = harness.worker(concurrency: 1)
        #expect(try await worker.processAvailable() == 1)
        #expect(try await worker.processAvailable() == 1)
        #expect(try await harness.job(ticket.jobID).attempt == 1)
        #expect(await harness.notifier.sent.count == 1)
        #expect(harness.source.faults.callCount(.page) == 2)  // one export: two pages of two rows
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)
    }

    @Test("guarantee 3: both copies of a message delivered at once still run the export once")
    func simultaneousDuplicates() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        try await harness.queue.enqueue(QueueMessage(jobID: ticket.jobID))
        let stuck = GatedSource(harness.source)
        let worker = harness.worker(source: stuck, concurrency: 2)
        let both = Task { try await worker.processAvailable() }
        await stuck.waitForArrival()
        stuck.open()
        #expect(try await both.value == 2)
        // The second copy found the job running under a live lease and was released for later.
        #expect(try await harness.job(ticket.jobID).attempt == 1)
        harness.clock.advance(by: .seconds(61))
        try await harness.worker().processAvailable()
        #expect(await harness.notifier.sent.count == 1)
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)
    }

    @Test("guarantee 3: a worker that dies after e-mailing, before recording it, does not cause a second e-mail")
    func diesAfterNotifying() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let crashing = CrashAfterNotifyStore(harness.jobs)
        try await harness.worker(jobStore: crashing).processAvailable()
        #expect(await harness.notifier.sent.count == 1)
        var job = try await harness.job(ticket.jobID)
        #expect(job.state == .succeeded)
        #expect(!job.lifecycle.notified)

        // The message was acknowledged before the record (see NotificationDelivery.finish): the reconciler
        // finds the job whose e-mail is not recorded and sends it again under the same idempotency key.
        #expect(await harness.queue.visibleCount + harness.queue.inFlightCount == 0)
        harness.clock.advance(by: .seconds(601))
        #expect(try await harness.reconciler().reconcile().notified == [ticket.jobID])
        job = try await harness.job(ticket.jobID)
        #expect(job.lifecycle.notified)
        #expect(job.attempt == 1)  // the export was not redone
        #expect(await harness.notifier.sendAttempts(for: "\(ticket.jobID).ready") == 2)
        #expect(await harness.notifier.sent.count == 1)
    }

    @Test("a job that keeps killing its workers ends failed at the interruption bound, with one e-mail")
    func poisonJob() async throws {
        // Three takeovers allowed beyond the first run: well above maxAttempts (2), so this is the
        // separate bound that ends it, not the attempt budget.
        let harness = Harness(policy: RetryPolicy(maxAttempts: 2, baseDelay: .seconds(10), maxDelay: .seconds(60), jitter: .none, maxInterruptions: 3))
        let ticket = try await harness.request()
        // Each worker stalls holding the job until its lease runs out and the next one takes over; only
        // then does the stalled one wake up (and find it has lost the job).
        var previous: (GatedSource, Task<Void, Never>)?
        for _ in 0..<4 {
            let stuck = GatedSource(harness.source)
            let doomed = harness.stalledWorker(source: stuck)
            let task = Task { _ = try? await doomed.processAvailable() }
            await stuck.waitForArrival()
            if let (source, zombie) = previous {
                source.fail(with: ExportError(.io, "woke up too late"))
                await zombie.value
            }
            previous = (stuck, task)
            harness.clock.advance(by: .seconds(61))
        }
        try await harness.worker().processAvailable()
        if let (source, zombie) = previous {
            source.fail(with: ExportError(.io, "woke up too late"))
            await zombie.value
        }
        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .failed)
        #expect(job.failure?.code == "interruptionsExhausted")
        #expect(job.lifecycle.interruptions == 3 && job.lifecycle.failures == 0)
        #expect(await harness.notifier.sent.map(\.kind) == [.failed])
        #expect(await harness.queue.allDeadLetters.count == 1)
    }
}

/// A job store that fails the update recording a sent notification once, as if the process had died
/// right after the e-mail went out.
final class CrashAfterNotifyStore: ForwardingJobStore {
    let inner: InMemoryJobStore
    private let crashed = Mutex(false)

    init(_ inner: InMemoryJobStore) { self.inner = inner }

    func update(_ job: ExportJob) async throws -> ExportJob {
        if job.lifecycle.notified, crashed.withLock({ crashed in defer { crashed = true }; return !crashed }) {
            throw ExportError(.unavailable, "process died")
        }
        return try await inner.update(job)
    }
}
