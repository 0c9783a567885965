import ExportAdapters
import ExportConformance
import ExportCore
import Foundation
import Testing

/// The operator capabilities of the ports: `WorkerControlStore` on the local adapters, and proof that
/// the listing-across-owners case of the job-store suite catches a broken listing.
@Suite("Operator ports conformance")
struct OperatorPortsConformanceTests {
    @Test("worker control in memory (one store shared by every worker)")
    func inMemory() async throws {
        let store = InMemoryWorkerControlStore()
        #expect(try await store.workerControl() == WorkerControl())
        try await WorkerControlStoreConformance { store }.run()
    }

    @Test("worker control on the file system, a separate instance per call on one directory (as processes are)")
    func fileSystem() async throws {
        let directory = try TestDirectory("conf-control")
        defer { directory.remove() }
        #expect(try await FileWorkerControlStore(directory: directory.url).workerControl() == WorkerControl())
        try await WorkerControlStoreConformance { try FileWorkerControlStore(directory: directory.url) }.run()
    }

    @Test("the worker control suite catches a store that each instance keeps to itself")
    func catchesUnsharedControl() async throws {
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await WorkerControlStoreConformance { InMemoryWorkerControlStore() }.run()
        }
        #expect(failure?.description.contains("another store on the same storage read") == true)
    }

    @Test("the job store suite catches a listing across owners that ignores the filter")
    func catchesUnfilteredListing() async throws {
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await JobStoreConformance { UnfilteredListingStore() }.run()
        }
        #expect(failure?.description.contains("the filter excludes") == true)
    }

    @Test("a store without the listing must be declared so, and then must throw unsupported")
    func declaredUnsupported() async throws {
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await JobStoreConformance { UnfilteredListingStore(supportsListing: false) }.run()
        }
        #expect(failure?.description.contains("listing across owners") == true)
        try await JobStoreConformance(configuration: .init(listsAcrossOwners: false)) { UnfilteredListingStore(supportsListing: false) }.run()
    }
}

/// An in-memory store whose listing across owners returns every job oldest first, whatever the filter
/// (or, with `supportsListing: false`, keeps the port's default, which throws `unsupported`).
struct UnfilteredListingStore: JobStore {
    let inner = InMemoryJobStore()
    var supportsListing = true

    func create(_ job: ExportJob) async throws -> JobCreation { try await inner.create(job) }
    func get(_ id: JobID) async throws -> ExportJob? { try await inner.get(id) }
    func update(_ job: ExportJob) async throws -> ExportJob { try await inner.update(job) }
    func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        try await inner.list(owner: owner, after: cursor, limit: limit)
    }
    func jobs(matching filter: JobFilter, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        guard supportsListing else { throw ExportError(.unsupported, "no listing across owners") }
        return try await inner.jobs(matching: JobFilter(), after: cursor, limit: limit)
    }
    func stale(in states: Set<JobState>, updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        try await inner.stale(in: states, updatedBefore: updatedBefore, limit: limit)
    }
    func unnotified(updatedBefore: Date, limit: Int) async throws -> [ExportJob] { try await inner.unnotified(updatedBefore: updatedBefore, limit: limit) }
    func expired(now: Date, limit: Int) async throws -> [ExportJob] { try await inner.expired(now: now, limit: limit) }
    func delete(_ job: ExportJob) async throws { try await inner.delete(job) }
}
