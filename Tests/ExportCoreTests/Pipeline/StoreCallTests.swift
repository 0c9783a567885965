import ExportAdapters
import ExportCore
import ExportTestSupport
import Foundation
import Synchronization
import Testing

/// How many job-store calls a job costs: each is a round trip (a statement, a file read) on a durable
/// store, so the pipeline must not read what it already holds.
@Suite("Job-store calls per job")
struct StoreCallTests {
    @Test("a tiny job's success reads its job once (the claim's read) and writes it three times")
    func successPath() async throws {
        let harness = Harness()
        let counting = CountingJobStore(harness.jobs)
        let ticket = try await harness.request()
        counting.reset()
        #expect(try await harness.worker(jobStore: counting).processAvailable() == 1)
        #expect(try await harness.job(ticket.jobID).lifecycle.notified)
        // The claim reads the job; claim, success and "notified" are the three writes. Recording the
        // notification starts from the job the success stored, so it reads nothing.
        #expect(counting.counts == .init(gets: 1, updates: 3))
    }

    @Test("a job the queue read with the lease is not read again: the success path writes three times and reads nothing")
    func snapshotFromQueue() async throws {
        let harness = Harness()
        let counting = CountingJobStore(harness.jobs)
        let ticket = try await harness.request()
        counting.reset()
        let queue = SnapshotQueue(harness.queue) { id in try await harness.jobs.get(id) }
        #expect(try await harness.worker(jobStore: counting, queue: queue).processAvailable() == 1)
        #expect(try await harness.job(ticket.jobID).lifecycle.notified)
        #expect(counting.counts == .init(gets: 0, updates: 3))
        #expect(await harness.notifier.sent.count == 1)
    }

    @Test("a queue's snapshot of another job than the message's is ignored: the message's own job runs")
    func snapshotOfAnotherJob() async throws {
        let harness = Harness()
        let other = try await harness.request("u2")
        let decoy = try #require(try await harness.jobs.get(other.jobID))
        let counting = CountingJobStore(harness.jobs)
        // u2's message is taken out of the queue; only u1's is left, and its delivery carries u2's job.
        let taken = try #require(try await harness.queue.receive(max: 1, visibilityTimeout: .seconds(60), waitTime: .zero).first)
        #expect(taken.message.jobID == other.jobID)
        try await harness.queue.acknowledge(taken.receipt)
        let mine = try await harness.request()
        counting.reset()
        let queue = SnapshotQueue(harness.queue) { _ in decoy }
        #expect(try await harness.worker(jobStore: counting, queue: queue).processAvailable() >= 1)
        #expect(try await harness.job(mine.jobID).state == .succeeded)
        #expect(try await harness.job(other.jobID).state == .queued)
        #expect(counting.counts.gets >= 1)
    }

    @Test("a stale snapshot cannot overwrite a newer job: a queued job cancelled after the queue read it stays cancelled")
    func staleSnapshot() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let snapshot = try #require(try await harness.jobs.get(ticket.jobID))
        _ = try await harness.service.cancel(ticket.jobID, requester: "u1")
        #expect(try await harness.job(ticket.jobID).state == .cancelled)
        let queue = SnapshotQueue(harness.queue) { _ in snapshot }
        let worker = harness.worker(queue: queue)
        // The message is still queued (a cancelled job's message is discarded by the worker that gets it).
        #expect(try await worker.processAvailable() == 1)
        for _ in 0..<3 { _ = try? await worker.processAvailable() }
        let job = try await harness.job(ticket.jobID)
        #expect(job.state == .cancelled)
        #expect(await harness.blobs.keys.isEmpty)
    }

    @Test("a store that records and queues in one step is not followed by an enqueue; one that declines is", arguments: [true, false])
    func createAndEnqueue(folds: Bool) async throws {
        let harness = Harness()
        let store = FoldingJobStore(harness.jobs, queue: harness.queue, folds: folds)
        let counting = SnapshotQueue(harness.queue)
        let service = try ExportService(ports: harness.ports(jobStore: store, queue: counting), configuration: .init(rateLimit: nil))
        let ticket = try await service.request(ExportRequest(owner: "u1", recipient: try EmailAddress(validating: "u1@example.com")))
        // The active export answers a second request, and nothing more is queued for it.
        let again = try await service.request(ExportRequest(owner: "u1", recipient: try EmailAddress(validating: "u1@example.com")))
        #expect(again.deduplicated && again.jobID == ticket.jobID)
        #expect(store.folded.load(ordering: .relaxed) == (folds ? 1 : 0))
        #expect(counting.enqueues.load(ordering: .relaxed) == (folds ? 0 : 1))
        // One message either way: the worker runs the job once.
        #expect(try await harness.worker().processAvailable() == 1)
        #expect(try await harness.worker().processAvailable() == 0)
        #expect(try await harness.job(ticket.jobID).state == .succeeded)
    }

    @Test("a store that acknowledges with the record does so instead of the queue; one that declines leaves it to the queue", arguments: [true, false])
    func acknowledgeWithRecord(folds: Bool) async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let store = AcknowledgingStore(harness.jobs, queue: harness.queue, folds: folds)
        let queue = SnapshotQueue(harness.queue)
        #expect(try await harness.worker(jobStore: store, queue: queue).processAvailable() == 1)
        #expect(try await harness.job(ticket.jobID).lifecycle.notified)
        #expect(await harness.notifier.sent.count == 1)
        #expect(store.folded.load(ordering: .relaxed) == (folds ? 1 : 0))
        #expect(queue.acknowledges.load(ordering: .relaxed) == (folds ? 0 : 1))
        #expect(try await harness.queue.receive(max: 10, visibilityTimeout: .seconds(60), waitTime: .zero).isEmpty, "no message is left")
        #expect(await harness.queue.inFlightCount == 0)
    }

    @Test("a stale copy at the combined step is read again and the step repeated: one record, one acknowledgement")
    func acknowledgeWithRecordAfterConflict() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        let store = AcknowledgingStore(harness.jobs, queue: harness.queue, folds: true, conflictFirst: true)
        let queue = SnapshotQueue(harness.queue)
        #expect(try await harness.worker(jobStore: store, queue: queue).processAvailable() == 1)
        let job = try await harness.job(ticket.jobID)
        #expect(job.lifecycle.notified && job.state == .succeeded)
        #expect(store.folded.load(ordering: .relaxed) == 2)
        #expect(queue.acknowledges.load(ordering: .relaxed) == 0)
        #expect(await harness.queue.inFlightCount == 0)
        #expect(await harness.notifier.sent.count == 1)
    }

    @Test("modify(startingFrom:) writes from the caller's copy, and reads again only when that copy is stale")
    func modifyStartingFrom() async throws {
        let harness = Harness()
        let counting = CountingJobStore(harness.jobs)
        let ticket = try await harness.request()
        let created = try await harness.job(ticket.jobID)

        counting.reset()
        let first = try #require(
            try await counting.modify(startingFrom: created) { job throws(ExportError) in
                job.rowsWritten = 1
                return true
            })
        #expect(first.version == created.version + 1)
        #expect(counting.counts == .init(gets: 0, updates: 1))

        // `created` is stale now: the compare-and-swap fails, the fresh job is read and changed again.
        counting.reset()
        let second = try #require(
            try await counting.modify(startingFrom: created) { job throws(ExportError) in
                job.rowsWritten += 10
                return true
            })
        #expect(second.rowsWritten == 11)
        #expect(second.version == created.version + 2)
        #expect(counting.counts == .init(gets: 1, updates: 2))

        // Nothing to change: no write, the copy comes back as it is.
        counting.reset()
        let unchanged = try await counting.modify(startingFrom: second) { _ throws(ExportError) in false }
        #expect(unchanged?.version == second.version)
        #expect(counting.counts == .init(gets: 0, updates: 0))

        // A job deleted meanwhile: the stale copy's write fails, the read finds nothing.
        try await harness.jobs.delete(second)
        let gone = try await counting.modify(startingFrom: second) { job throws(ExportError) in
            job.rowsWritten = 0
            return true
        }
        #expect(gone == nil)
    }
}

/// A job store that counts reads and writes of single jobs and passes everything on.
final class CountingJobStore: ForwardingJobStore {
    struct Counts: Equatable {
        var gets = 0
        var updates = 0
    }

    let inner: InMemoryJobStore
    private let state = Mutex(Counts())

    init(_ inner: InMemoryJobStore) { self.inner = inner }

    var counts: Counts { state.withLock { $0 } }
    func reset() { state.withLock { $0 = Counts() } }

    func get(_ id: JobID) async throws -> ExportJob? {
        state.withLock { $0.gets += 1 }
        return try await inner.get(id)
    }
    func update(_ job: ExportJob) async throws -> ExportJob {
        state.withLock { $0.updates += 1 }
        return try await inner.update(job)
    }
}

/// A queue that hands each delivery a job snapshot, as `PostgresQueue` reads the job with the lease.
/// It also counts the enqueues and acknowledgements it passes on.
final class SnapshotQueue: ForwardingQueue {
    let inner: InMemoryQueue
    let snapshot: @Sendable (JobID) async throws -> ExportJob?
    let enqueues = Atomic<Int>(0)
    let acknowledges = Atomic<Int>(0)

    init(_ inner: InMemoryQueue, snapshot: @escaping @Sendable (JobID) async throws -> ExportJob? = { _ in nil }) {
        self.inner = inner
        self.snapshot = snapshot
    }

    func enqueue(_ message: QueueMessage, delay: Duration) async throws -> MessageID {
        enqueues.add(1, ordering: .relaxed)
        return try await inner.enqueue(message, delay: delay)
    }
    func acknowledge(_ receipt: LeaseReceipt) async throws {
        acknowledges.add(1, ordering: .relaxed)
        try await inner.acknowledge(receipt)
    }
    func receive(max: Int, visibilityTimeout: Duration, waitTime: Duration) async throws -> [Delivery] {
        var deliveries = try await inner.receive(max: max, visibilityTimeout: visibilityTimeout, waitTime: waitTime)
        for index in deliveries.indices { deliveries[index].job = try await snapshot(deliveries[index].message.jobID) }
        return deliveries
    }
}

/// An `EnqueueingJobStore` over the in-memory store and queue: it records and queues in one call when
/// `folds`, and declines (answers `nil`) otherwise.
final class FoldingJobStore: EnqueueingJobStore, ForwardingJobStore {
    let inner: InMemoryJobStore
    let queue: InMemoryQueue
    let folds: Bool
    let folded = Atomic<Int>(0)

    init(_ inner: InMemoryJobStore, queue: InMemoryQueue, folds: Bool) {
        self.inner = inner
        self.queue = queue
        self.folds = folds
    }

    func create(_ job: ExportJob, enqueueing message: QueueMessage, on queue: any Queue) async throws -> JobCreation? {
        guard folds else { return nil }
        folded.add(1, ordering: .relaxed)
        let creation = try await inner.create(job)
        if case .created = creation { try await self.queue.enqueue(message) }
        return creation
    }
}

/// An `AcknowledgingJobStore` over the in-memory store and queue: it stores the job and acknowledges
/// in one call when `folds` (the first call failing as a stale copy when `conflictFirst`), and
/// declines (answers `nil`) otherwise.
final class AcknowledgingStore: AcknowledgingJobStore, ForwardingJobStore {
    let inner: InMemoryJobStore
    let queue: InMemoryQueue
    let folds: Bool
    let conflictFirst: Bool
    let folded = Atomic<Int>(0)

    init(_ inner: InMemoryJobStore, queue: InMemoryQueue, folds: Bool, conflictFirst: Bool = false) {
        self.inner = inner
        self.queue = queue
        self.folds = folds
        self.conflictFirst = conflictFirst
    }

    func update(_ job: ExportJob, acknowledging receipt: LeaseReceipt, on queue: any Queue) async throws -> ExportJob? {
        guard folds else { return nil }
        let call = folded.add(1, ordering: .relaxed).newValue
        if conflictFirst, call == 1 {
            // Another writer got there first: the stored version moves on, and nothing is done here.
            _ = try await inner.modify(job.id) { stored in
                stored.updatedAt = stored.updatedAt.addingTimeInterval(0.001)
                return true
            }
            throw ExportError(.versionConflict, "job \(job.id) moved on")
        }
        let stored = try await inner.update(job)
        try await self.queue.acknowledge(receipt)
        return stored
    }
}
