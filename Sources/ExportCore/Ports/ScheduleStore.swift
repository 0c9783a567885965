import Foundation

/// Durable storage of export schedules with optimistic concurrency.
///
/// A separate port from ``JobStore`` (a backend may keep both in one table or directory), so a host
/// that offers no schedules implements nothing more, and ``ExportPorts/scheduleStore`` is `nil`.
///
/// ## Implementation requirements
/// - **Atomic records.** A reader sees a schedule as it was after some complete update, never a mix.
/// - **Create** stores a schedule whose ``ExportSchedule/version`` becomes 1; an existing id throws
///   ``ExportError/Code/alreadyExists`` and changes nothing.
/// - **Compare-and-swap.** ``update(_:)`` stores the schedule only if the stored version equals the given
///   one's, and returns it with the version incremented by one; otherwise it throws
///   ``ExportError/Code/versionConflict`` and changes nothing. A missing schedule throws
///   ``ExportError/Code/notFound``. Id, owner and creation time never change. This is what makes
///   several schedulers safe: only one of them moves an occurrence on.
/// - **Delete** removes a schedule (only at the given version, when one is given).
/// - **Owner listing** is oldest first (by ``ExportSchedule/createdAt``, then id) with an opaque cursor.
/// - **Due** returns unpaused schedules whose ``ExportSchedule/nextRunAt`` is at or before `now`,
///   earliest first, across owners.
/// - Corrupt records throw ``ExportError/Code/corruptData`` from ``get(_:)`` and are skipped by listings.
public protocol ScheduleStore: Sendable {
    /// Stores a new schedule.
    ///
    /// - Parameters:
    ///   - schedule: The schedule, with version 0.
    /// - Returns: The stored schedule (version 1).
    /// - Throws: ``ExportError/Code/alreadyExists`` for a taken id; the store's errors.
    func create(_ schedule: ExportSchedule) async throws -> ExportSchedule

    /// Reads a schedule.
    ///
    /// - Parameters:
    ///   - id: The schedule's id.
    /// - Returns: The schedule, or `nil`.
    /// - Throws: The store's errors; ``ExportError/Code/corruptData`` for a corrupt record.
    func get(_ id: ScheduleID) async throws -> ExportSchedule?

    /// Replaces a schedule if nobody changed it since it was read.
    ///
    /// - Parameters:
    ///   - schedule: The new content, carrying the version that was read.
    /// - Returns: The stored schedule with its new version.
    /// - Throws: ``ExportError/Code/versionConflict`` or ``ExportError/Code/notFound``.
    func update(_ schedule: ExportSchedule) async throws -> ExportSchedule

    /// Deletes a schedule.
    ///
    /// - Parameters:
    ///   - id: The schedule's id.
    ///   - version: Delete only at this version, or `nil` for any.
    /// - Returns: Whether a schedule was deleted.
    /// - Throws: ``ExportError/Code/versionConflict`` when `version` is stale; the store's errors.
    func delete(_ id: ScheduleID, version: UInt64?) async throws -> Bool

    /// Lists one owner's schedules, oldest first.
    ///
    /// - Parameters:
    ///   - owner: The owner.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most schedules to return (at least 1).
    /// - Returns: The page.
    /// - Throws: The store's errors.
    func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportSchedule>

    /// The unpaused schedules due at `now`, earliest ``ExportSchedule/nextRunAt`` first.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - limit: The most schedules to return.
    /// - Returns: The due schedules.
    /// - Throws: The store's errors.
    func due(at now: Date, limit: Int) async throws -> [ExportSchedule]
}

extension ScheduleStore {
    /// Reads a schedule, applies `change` and stores it by compare-and-swap, re-reading and re-applying
    /// on a version conflict, up to `attempts` times.
    ///
    /// - Parameters:
    ///   - id: The schedule's id.
    ///   - attempts: How many conflicts to ride out; 8 by default.
    ///   - change: Edits the schedule and returns whether to store it.
    /// - Returns: The stored (or unchanged) schedule, or `nil` when there is none.
    /// - Throws: What `change` throws; the store's errors; ``ExportError/Code/versionConflict`` when the
    ///   schedule kept changing.
    @discardableResult
    public func modify(
        _ id: ScheduleID, attempts: Int = 8, _ change: (inout ExportSchedule) throws(ExportError) -> Bool
    ) async throws -> ExportSchedule? {
        for _ in 0..<max(1, attempts) {
            guard var schedule = try await get(id) else { return nil }
            guard try change(&schedule) else { return schedule }
            do {
                return try await update(schedule)
            } catch let error as ExportError where error.code == .versionConflict {
                continue  // another scheduler or the owner moved it on: decide again on the fresh state
            }
        }
        throw ExportError(.versionConflict, "schedule \(id) kept changing; try again")
    }
}
