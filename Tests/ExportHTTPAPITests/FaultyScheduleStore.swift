import ExportCore
import Foundation
import Synchronization

/// A schedule store whose next call fails once with the error set by ``failNext(with:)``: the
/// `default` (503) answer of each schedule route.
final class FaultyScheduleStore: ScheduleStore {
    private let base: any ScheduleStore
    private let pending = Mutex<ExportError?>(nil)

    init(base: any ScheduleStore) { self.base = base }

    /// Makes the next call throw `error`.
    func failNext(with error: ExportError = ExportError(.unavailable, "down")) { pending.withLock { $0 = error } }

    private func check() throws {
        if let error = pending.withLock({ value -> ExportError? in defer { value = nil }; return value }) { throw error }
    }

    func create(_ schedule: ExportSchedule) async throws -> ExportSchedule { try check(); return try await base.create(schedule) }
    func get(_ id: ScheduleID) async throws -> ExportSchedule? { try check(); return try await base.get(id) }
    func update(_ schedule: ExportSchedule) async throws -> ExportSchedule { try check(); return try await base.update(schedule) }
    func delete(_ id: ScheduleID, version: UInt64?) async throws -> Bool { try check(); return try await base.delete(id, version: version) }
    func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportSchedule> {
        try check()
        return try await base.list(owner: owner, after: cursor, limit: limit)
    }
    func due(at now: Date, limit: Int) async throws -> [ExportSchedule] { try check(); return try await base.due(at: now, limit: limit) }
}
