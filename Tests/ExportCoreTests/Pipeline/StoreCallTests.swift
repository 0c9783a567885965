import ExportAdapters
import ExportCore
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
final class CountingJobStore: JobStore {
    struct Counts: Equatable {
        var gets = 0
        var updates = 0
    }

    private let inner: InMemoryJobStore
    private let state = Mutex(Counts())

    init(_ inner: InMemoryJobStore) { self.inner = inner }

    var counts: Counts { state.withLock { $0 } }
    func reset() { state.withLock { $0 = Counts() } }

    func create(_ job: ExportJob) async throws -> JobCreation { try await inner.create(job) }
    func get(_ id: JobID) async throws -> ExportJob? {
        state.withLock { $0.gets += 1 }
        return try await inner.get(id)
    }
    func update(_ job: ExportJob) async throws -> ExportJob {
        state.withLock { $0.updates += 1 }
        return try await inner.update(job)
    }
    func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        try await inner.list(owner: owner, after: cursor, limit: limit)
    }
    func stale(in states: Set<JobState>, updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        try await inner.stale(in: states, updatedBefore: updatedBefore, limit: limit)
    }
    func unnotified(updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        try await inner.unnotified(updatedBefore: updatedBefore, limit: limit)
    }
    func expired(now: Date, limit: Int) async throws -> [ExportJob] { try await inner.expired(now: now, limit: limit) }
    func delete(_ job: ExportJob) async throws { try await inner.delete(job) }
}
