import ExportCore
import Foundation

/// A `ScheduleStore` keeping one JSON file per schedule under a root directory, safe to share
/// between several processes on one machine (several schedulers race on it safely).
///
/// Layout under the root: `schedules/<id>.json` (replaced atomically: temp file in `tmp/`, fsync,
/// rename), `corrupt/` (undecodable records moved aside), and `store.lock`, an exclusive `flock` held by
/// every mutation, so compare-and-swap holds across processes. Reads take no lock.
///
/// Costs: ``get(_:)`` reads one file; ``list(owner:after:limit:)`` and ``due(at:limit:)`` read every
/// record (O(schedules)), which suits a single machine's schedules.
public final class FileScheduleStore: ScheduleStore {
    let root: String
    var recordsDirectory: String { root + "/schedules" }
    var corruptDirectory: String { root + "/corrupt" }
    var temporaryDirectory: String { root + "/tmp" }
    var lockPath: String { root + "/store.lock" }
    let corruptFiles: CorruptFileReporter

    /// Opens (creating if needed) a store under a directory.
    ///
    /// - Parameters:
    ///   - directory: The root directory; created with its parents when missing.
    ///   - onCorruptFile: Called for every record moved to `corrupt/`; `nil` to ignore.
    /// - Throws: `ExportError` when the directory cannot be created or used.
    public init(directory: URL, onCorruptFile: (@Sendable (CorruptFileReport) -> Void)? = nil) throws(ExportError) {
        corruptFiles = CorruptFileReporter(onCorruptFile)
        root = try POSIXFile.prepareRoot(directory)
        for path in [recordsDirectory, corruptDirectory, temporaryDirectory] {
            try POSIXFile.makeDirectory(path, inside: root)
        }
        POSIXFile.removeOrphanedTemporaryFiles(in: temporaryDirectory)
    }

    /// Stores a new schedule.
    ///
    /// - Parameters:
    ///   - schedule: The schedule; stored at version 1.
    /// - Returns: The stored schedule.
    /// - Throws: `ExportError.Code.alreadyExists` for a taken id; storage errors.
    public func create(_ schedule: ExportSchedule) async throws -> ExportSchedule {
        try await locked { () throws(ExportError) -> ExportSchedule in
            if try POSIXFile.readAll(recordPath(schedule.id)) != nil {
                throw ExportError(.alreadyExists, "schedule \(schedule.id) already exists")
            }
            var stored = schedule
            stored.version = 1
            try write(stored)
            return stored
        }
    }

    /// Reads a schedule.
    ///
    /// - Parameters:
    ///   - id: The id.
    /// - Returns: The schedule, or `nil`.
    /// - Throws: `ExportError.Code.corruptData` for an undecodable record (moved to `corrupt/`).
    public func get(_ id: ScheduleID) async throws -> ExportSchedule? {
        guard let bytes = try POSIXFile.readAll(recordPath(id)) else { return nil }
        do {
            return try decode(bytes, expecting: id)
        } catch {
            try await locked { () throws(ExportError) in try moveAsideLocked(id, ifContentIs: bytes, reason: error) }
            throw error
        }
    }

    /// Replaces a schedule if nobody changed it since it was read.
    ///
    /// - Parameters:
    ///   - schedule: The new content with the version read.
    /// - Returns: The stored schedule with its new version.
    /// - Throws: `ExportError.Code.versionConflict` or `ExportError.Code.notFound`.
    public func update(_ schedule: ExportSchedule) async throws -> ExportSchedule {
        try await locked { () throws(ExportError) -> ExportSchedule in
            guard let stored = try readLocked(schedule.id) else { throw ExportError(.notFound, "no schedule \(schedule.id)") }
            guard stored.version == schedule.version else {
                throw ExportError(.versionConflict, "schedule \(schedule.id) is at version \(stored.version), not \(schedule.version)")
            }
            var updated = schedule
            updated.owner = stored.owner
            updated.createdAt = stored.createdAt
            updated.version = stored.version + 1
            try write(updated)
            return updated
        }
    }

    /// Deletes a schedule.
    ///
    /// - Parameters:
    ///   - id: The id.
    ///   - version: Only at this version, or `nil`.
    /// - Returns: Whether one was deleted.
    /// - Throws: `ExportError.Code.versionConflict` for a stale version; storage errors.
    public func delete(_ id: ScheduleID, version: UInt64?) async throws -> Bool {
        try await locked { () throws(ExportError) -> Bool in
            guard let stored = try readLocked(id) else { return false }
            if let version, stored.version != version {
                throw ExportError(.versionConflict, "schedule \(id) is at version \(stored.version), not \(version)")
            }
            try POSIXFile.remove(recordPath(id))
            return true
        }
    }

    /// Lists one owner's schedules, oldest first.
    ///
    /// - Parameters:
    ///   - owner: The owner.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most to return (at least 1).
    /// - Returns: The page.
    /// - Throws: `ExportError.Code.invalidRequest` for a bad limit or cursor; storage errors.
    public func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportSchedule> {
        try ScheduleListing.page(try await all().filter { $0.owner == owner }, after: cursor, limit: limit)
    }

    /// The unpaused schedules due at `now`, earliest first.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - limit: The most to return.
    /// - Returns: The due schedules.
    /// - Throws: Storage errors.
    public func due(at now: Date, limit: Int) async throws -> [ExportSchedule] {
        ScheduleListing.due(try await all(), at: now, limit: limit)
    }

    /// Every readable record; corrupt ones are moved aside and reported, not thrown.
    private func all() async throws(ExportError) -> [ExportSchedule] {
        var schedules: [ExportSchedule] = []
        for name in try POSIXFile.list(recordsDirectory) where name.hasSuffix(".json") {
            guard let id = ScheduleID(String(name.dropLast(5))) else { continue }
            guard let bytes = try POSIXFile.readAll(recordPath(id)) else { continue }  // deleted meanwhile
            do {
                if let schedule = try decode(bytes, expecting: id) { schedules.append(schedule) }
            } catch {
                try await locked { () throws(ExportError) in try moveAsideLocked(id, ifContentIs: bytes, reason: error) }
            }
        }
        return schedules
    }

    // MARK: Internals

    private func locked<T>(_ body: () throws(ExportError) -> T) async throws(ExportError) -> T {
        defer { corruptFiles.flush() }
        return try await POSIXFile.withLock(lockPath, body)
    }

    private func recordPath(_ id: ScheduleID) -> String { recordsDirectory + "/" + id.rawValue + ".json" }

    private func decode(_ bytes: [UInt8], expecting id: ScheduleID) throws(ExportError) -> ExportSchedule? {
        do {
            let schedule = try RFC3339.recordDecoder().decode(ExportSchedule.self, from: Data(bytes))
            return schedule.id == id ? schedule : nil  // another id on a case-insensitive file system
        } catch {
            throw ExportError(.corruptData, "schedule record \(id) cannot be decoded and was moved to corrupt/: \(error)", cause: error)
        }
    }

    private func readLocked(_ id: ScheduleID) throws(ExportError) -> ExportSchedule? {
        guard let bytes = try POSIXFile.readAll(recordPath(id)) else { return nil }
        do {
            return try decode(bytes, expecting: id)
        } catch {
            try moveAsideLocked(id, ifContentIs: bytes, reason: error)
            throw error
        }
    }

    private func write(_ schedule: ExportSchedule) throws(ExportError) {
        let bytes: [UInt8]
        do {
            bytes = Array(try RFC3339.recordEncoder().encode(schedule))
        } catch {
            throw ExportError(.encoding, "schedule \(schedule.id) cannot be encoded: \(error)", cause: error)
        }
        try POSIXFile.writeAtomically(bytes, to: recordPath(schedule.id), temporaryDirectory: temporaryDirectory)
    }

    private func moveAsideLocked(_ id: ScheduleID, ifContentIs bytes: [UInt8], reason: ExportError) throws(ExportError) {
        guard let current = try POSIXFile.readAll(recordPath(id)), current == bytes else { return }
        let destination = corruptDirectory + "/" + id.rawValue + "." + POSIXFile.uniqueName() + ".json"
        if try POSIXFile.renameIfPresent(recordPath(id), to: destination) {
            corruptFiles.record(CorruptFileReport(path: recordPath(id), movedTo: destination, reason: reason.message))
        }
    }
}
