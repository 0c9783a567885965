import ExportCore
import Foundation

/// A `ScheduleStore` kept in memory: for tests, demos and single-process hosts.
///
/// It keeps every promise of the port: create refuses a taken id, compare-and-swap updates by version,
/// oldest-first owner listings with an opaque cursor, and the due scan.
public actor InMemoryScheduleStore: ScheduleStore {
    private var schedules: [ScheduleID: ExportSchedule] = [:]

    /// Creates an empty store.
    public init() {}

    /// Stores a new schedule.
    ///
    /// - Parameters:
    ///   - schedule: The schedule; stored at version 1.
    /// - Returns: The stored schedule.
    /// - Throws: `ExportError.Code.alreadyExists` for a taken id.
    public func create(_ schedule: ExportSchedule) async throws -> ExportSchedule {
        guard schedules[schedule.id] == nil else { throw ExportError(.alreadyExists, "schedule \(schedule.id) already exists") }
        var stored = schedule
        stored.version = 1
        schedules[stored.id] = stored
        return stored
    }

    /// Reads a schedule.
    ///
    /// - Parameters:
    ///   - id: The id.
    /// - Returns: The schedule, or `nil`.
    public func get(_ id: ScheduleID) async throws -> ExportSchedule? { schedules[id] }

    /// Replaces a schedule if its stored version equals `schedule.version`.
    ///
    /// - Parameters:
    ///   - schedule: The new content with the version read.
    /// - Returns: The stored schedule, its version incremented.
    /// - Throws: `ExportError.Code.notFound` or `ExportError.Code.versionConflict`.
    public func update(_ schedule: ExportSchedule) async throws -> ExportSchedule {
        guard let stored = schedules[schedule.id] else { throw ExportError(.notFound, "no schedule \(schedule.id)") }
        guard stored.version == schedule.version else {
            throw ExportError(.versionConflict, "schedule \(schedule.id) is at version \(stored.version), not \(schedule.version)")
        }
        var updated = schedule
        updated.owner = stored.owner
        updated.createdAt = stored.createdAt
        updated.version = stored.version + 1
        schedules[updated.id] = updated
        return updated
    }

    /// Deletes a schedule.
    ///
    /// - Parameters:
    ///   - id: The id.
    ///   - version: Only at this version, or `nil`.
    /// - Returns: Whether one was deleted.
    /// - Throws: `ExportError.Code.versionConflict` for a stale version.
    public func delete(_ id: ScheduleID, version: UInt64?) async throws -> Bool {
        guard let stored = schedules[id] else { return false }
        if let version, stored.version != version {
            throw ExportError(.versionConflict, "schedule \(id) is at version \(stored.version), not \(version)")
        }
        schedules[id] = nil
        return true
    }

    /// Lists one owner's schedules, oldest first.
    ///
    /// - Parameters:
    ///   - owner: The owner.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most to return (at least 1).
    /// - Returns: The page.
    /// - Throws: `ExportError.Code.invalidRequest` for a bad limit or cursor.
    public func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportSchedule> {
        try ScheduleListing.page(schedules.values.filter { $0.owner == owner }, after: cursor, limit: limit)
    }

    /// The unpaused schedules due at `now`, earliest first.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - limit: The most to return.
    /// - Returns: The due schedules.
    public func due(at now: Date, limit: Int) async throws -> [ExportSchedule] {
        ScheduleListing.due(schedules.values, at: now, limit: limit)
    }

    /// Every stored schedule, for assertions in tests.
    public var allSchedules: [ExportSchedule] { schedules.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
}
