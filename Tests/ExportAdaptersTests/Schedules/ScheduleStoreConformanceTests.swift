import ExportAdapters
import ExportConformance
import ExportCore
import Foundation
import Testing

/// The shared ScheduleStore suite against every local adapter, and proof that it catches a store
/// without compare-and-swap.
@Suite("ScheduleStore conformance")
struct ScheduleStoreConformanceTests {
    @Test("in memory")
    func inMemory() async throws {
        try await ScheduleStoreConformance { InMemoryScheduleStore() }.run()
    }

    @Test("file system")
    func fileSystem() async throws {
        let directory = try TestDirectory("schedules")
        defer { directory.remove() }
        try await ScheduleStoreConformance { try FileScheduleStore(directory: directory.url) }.run()
    }

    /// Writes whatever version it is given: the suite must refuse it.
    actor LastWriterWins: ScheduleStore {
        let base = InMemoryScheduleStore()
        func create(_ schedule: ExportSchedule) async throws -> ExportSchedule { try await base.create(schedule) }
        func get(_ id: ScheduleID) async throws -> ExportSchedule? { try await base.get(id) }
        func update(_ schedule: ExportSchedule) async throws -> ExportSchedule {
            var fresh = schedule
            fresh.version = try await base.get(schedule.id)?.version ?? schedule.version
            return try await base.update(fresh)
        }
        func delete(_ id: ScheduleID, version: UInt64?) async throws -> Bool { try await base.delete(id, version: version) }
        func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportSchedule> {
            try await base.list(owner: owner, after: cursor, limit: limit)
        }
        func due(at now: Date, limit: Int) async throws -> [ExportSchedule] { try await base.due(at: now, limit: limit) }
    }

    @Test("the suite catches a store that ignores versions")
    func catchesLastWriterWins() async throws {
        await #expect(throws: ConformanceFailure.self) { try await ScheduleStoreConformance { LastWriterWins() }.run() }
    }
}
