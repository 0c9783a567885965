import ExportAdapters
import ExportCore
import Foundation

/// A test job store that passes every call on to an in-memory store: a conformer writes only the calls
/// it changes (counts, fails, pages differently), and the rest come from here.
protocol ForwardingJobStore: JobStore {
    var inner: InMemoryJobStore { get }
}

extension ForwardingJobStore {
    func create(_ job: ExportJob) async throws -> JobCreation { try await inner.create(job) }
    func get(_ id: JobID) async throws -> ExportJob? { try await inner.get(id) }
    func update(_ job: ExportJob) async throws -> ExportJob { try await inner.update(job) }
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
