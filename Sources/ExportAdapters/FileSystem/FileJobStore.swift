import ExportCore
import Foundation

/// A `JobStore` that keeps one JSON file per job under a root directory, safe to share between
/// several processes on one machine.
///
/// Layout under the root:
/// - `jobs/<job id>.json`: the record, always replaced atomically (temp file in `tmp/`, write, fsync,
///   rename, fsync of `jobs/`), so a reader never sees a partial record.
/// - `owners/<sha256(owner)>/<created-at key>_<job id>`: an empty index entry per job, so listing one
///   owner's jobs reads that owner's directory and their records, not the whole store.
/// - `keys/<sha256(unique key)>`: holds the id of the job that holds a unique key; freed when the job
///   becomes terminal (a key whose holder is terminal or missing is also treated as free).
/// - `corrupt/`: records that could not be decoded are moved here (except those holding a state this
///   version does not know, written by a newer version: they stay in place and are reported), reported to the `onCorruptFile`
///   handler (from any call that meets them, listings and scans included), and thrown once as
///   `ExportError.Code.corruptData` by the ``get(_:)`` or ``update(_:)`` that met them.
/// - `store.lock`: every mutation (create, update, expiry, moving a corrupt record aside) holds an
///   exclusive `flock` on it, so compare-and-swap and unique keys hold across processes. Reads take no
///   lock: records are replaced by `rename`, which readers observe atomically.
///
/// Costs: ``get(_:)`` and ``update(_:)`` touch one file; ``list(owner:after:limit:)`` reads the owner's
/// index directory (O(jobs of that owner)) plus one record per returned job; ``stale(in:updatedBefore:limit:)``
/// ``unnotified(updatedBefore:limit:)`` and ``expired(now:limit:)`` scan every record (O(all jobs)), which suits their use by a
/// periodic reconciler on a single machine's store.
public final class FileJobStore: JobStore {
    let root: String
    var jobsDirectory: String { root + "/jobs" }
    var ownersDirectory: String { root + "/owners" }
    var keysDirectory: String { root + "/keys" }
    var corruptDirectory: String { root + "/corrupt" }
    var temporaryDirectory: String { root + "/tmp" }
    var lockPath: String { root + "/store.lock" }
    let corruptFiles: CorruptFileReporter
    /// Syncs (or not, per the durability) and group-commits the directory fsyncs of every mutation.
    let committer: FileCommitter

    /// Opens (creating if needed) a store under a directory.
    ///
    /// - Parameters:
    ///   - directory: The root directory; created with its parents when missing.
    ///   - durability: What an acknowledged change survives; ``FileDurability/powerLoss`` by default.
    ///   - onCorruptFile: Called once for every record moved to `corrupt/`, after the store's lock is
    ///     released (so it may use the store); log or alert there. `nil` to ignore.
    /// - Throws: `ExportError` (for example `ExportError.Code.permissionDenied`) when the directory
    ///   cannot be created or used.
    public init(
        directory: URL, durability: FileDurability = .powerLoss, onCorruptFile: (@Sendable (CorruptFileReport) -> Void)? = nil
    ) throws(ExportError) {
        corruptFiles = CorruptFileReporter(onCorruptFile)
        committer = FileCommitter(durability: durability)
        root = try POSIXFile.prepareRoot(directory)
        for path in [jobsDirectory, ownersDirectory, keysDirectory, corruptDirectory, temporaryDirectory] {
            try POSIXFile.makeDirectory(path, inside: root)
        }
        // Temp files of processes killed in the middle of an atomic write.
        POSIXFile.removeOrphanedTemporaryFiles(in: temporaryDirectory)
    }

    /// Stores a new job, or returns the job that already holds its id or unique key.
    ///
    /// - Parameters:
    ///   - job: The job, with version 0.
    /// - Returns: `.created` with the stored job (version 1) or `.existing` with the job that won.
    /// - Throws: `ExportError` when storage fails.
    public func create(_ job: ExportJob) async throws -> JobCreation {
        try await locked { () throws(ExportError) -> JobCreation in
            if let existing = try readLocked(job.id) { return .existing(existing) }
            if let key = job.uniqueKey, let holder = try holderLocked(ofKey: key) {
                return .existing(holder)
            }
            var stored = job
            stored.version = 1
            if let key = job.uniqueKey {
                try POSIXFile.writeAtomically(
                    Array(job.id.rawValue.utf8), to: keyPath(key), temporaryDirectory: temporaryDirectory)
            }
            // On a case-insensitive file system another id can name the same file: never overwrite it.
            if try POSIXFile.readAll(recordPath(job.id)) != nil {
                throw ExportError(
                    .alreadyExists, "job id \(job.id) names the same file as a stored job with another id (case-insensitive file system)")
            }
            // The index entry goes first: a crash before the record leaves a dangling entry that
            // listings skip and clean, never a record that no listing finds.
            let ownerDirectory = ownerIndexDirectory(job.owner)
            try POSIXFile.makeDirectories(ownerDirectory)
            try POSIXFile.writeAtomically(
                [], to: ownerDirectory + "/" + Self.indexEntry(job), temporaryDirectory: temporaryDirectory)
            try writeRecord(stored)
            return .created(stored)
        }
    }

    /// Reads a job.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    /// - Returns: The job, or `nil` when there is none. A record that holds another id (on a
    ///   case-insensitive file system `ABC` opens the record of `abc`) is "none" too, and is left alone.
    /// - Throws: `ExportError.Code.corruptData` when the record cannot be decoded (it is then moved to
    ///   `corrupt/`), or another `ExportError` when storage fails.
    public func get(_ id: JobID) async throws -> ExportJob? {
        guard let bytes = try POSIXFile.readAll(recordPath(id)) else { return nil }
        do {
            return try decode(bytes, expecting: id)
        } catch {
            // A newer version's record (`unsupportedVersion`) stays where it is.
            if error.code == .corruptData {
                try await locked { () throws(ExportError) in try moveAsideLocked(id, ifContentIs: bytes, reason: error) }
            }
            throw error
        }
    }

    /// Replaces a job if nobody changed it since it was read.
    ///
    /// Owner, id, creation time and unique key are kept from the stored record. When the new state is
    /// terminal, the job's unique key is released.
    ///
    /// - Parameters:
    ///   - job: The new content; its `ExportJob.version` is the version that was read.
    /// - Returns: The stored job with its new version.
    /// - Throws: `ExportError.Code.versionConflict` when the stored version differs,
    ///   `ExportError.Code.notFound` when the job is gone.
    public func update(_ job: ExportJob) async throws -> ExportJob {
        try await locked { () throws(ExportError) -> ExportJob in
            guard let stored = try readLocked(job.id) else {
                throw ExportError(.notFound, "job \(job.id) does not exist")
            }
            guard stored.version == job.version else {
                throw ExportError(
                    .versionConflict, "job \(job.id) is at version \(stored.version), not \(job.version)")
            }
            var updated = job
            updated.owner = stored.owner
            updated.createdAt = stored.createdAt
            updated.uniqueKey = stored.uniqueKey
            updated.version = stored.version + 1
            try writeRecord(updated)
            if updated.state.isTerminal, let key = updated.uniqueKey {
                try releaseKeyLocked(key, heldBy: updated.id)
            }
            return updated
        }
    }

    // MARK: - Internals shared with the listing extension

    /// Runs `body` under `store.lock`, then reports the files it moved aside (with the lock released).
    func locked<T>(_ body: () throws(ExportError) -> T) async throws(ExportError) -> T {
        defer { corruptFiles.flush() }
        return try await POSIXFile.withLock(lockPath, committer: committer, body)
    }

    func recordPath(_ id: JobID) -> String { jobsDirectory + "/" + id.rawValue + ".json" }

    func keyPath(_ key: String) -> String { keysDirectory + "/" + SHA256Hasher.hash(Array(key.utf8)).hexString }

    func ownerIndexDirectory(_ owner: UserID) -> String {
        ownersDirectory + "/" + SHA256Hasher.hash(Array(owner.rawValue.utf8)).hexString
    }

    /// The index entry name: a sortable key of the creation time, `_`, the job id.
    static func indexEntry(_ job: ExportJob) -> String {
        // Map the Double's bits to an unsigned integer whose order is the numeric order.
        let bits = job.createdAt.timeIntervalSince1970.bitPattern
        let ordered = bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
        let hex = String(ordered, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + "_" + job.id.rawValue
    }

    /// The job id of an index entry, or `nil` when the name is not one.
    static func jobID(ofIndexEntry name: String) -> JobID? {
        let utf8 = Array(name.utf8)
        guard utf8.count > 17, utf8[16] == UInt8(ascii: "_"),
            utf8[0..<16].allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        return JobID(String(decoding: utf8[17...], as: UTF8.self))
    }

    /// Decodes a record read for `id`; `nil` when it holds another job. That happens on a
    /// case-insensitive file system (`jobs/ABC.json` opens `jobs/abc.json`): the record is fine, it is
    /// just not the one asked for, so it must never be treated as corrupt.
    func decode(_ bytes: [UInt8], expecting id: JobID) throws(ExportError) -> ExportJob? {
        let job: ExportJob
        do {
            job = try RFC3339.recordDecoder().decode(ExportJob.self, from: Data(bytes))
        } catch {
            if let state = Self.unknownState(in: bytes) {
                throw ExportError(
                    .unsupportedVersion,
                    "job record \(id) has the state \"\(state.prefix(40))\", which this version does not know (a newer version "
                        + "wrote it); it was left in place at \(recordPath(id)): run the newer version, or remove the record by hand",
                    cause: error)
            }
            throw ExportError(
                .corruptData, "job record \(id) cannot be decoded and was moved to corrupt/: \(error)", cause: error)
        }
        return job.id == id ? job : nil
    }

    /// The `state` of a record that is a JSON object whose state this version does not know (a record
    /// written by a newer version), or `nil` when the record is damaged in some other way.
    static func unknownState(in bytes: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            object["id"] is String, let lifecycle = object["lifecycle"] as? [String: Any],
            let state = lifecycle["state"] as? String, JobState(rawValue: state) == nil
        else { return nil }
        return state
    }

    /// Reads a record while holding the lock; a corrupt record is moved aside and reported.
    func readLocked(_ id: JobID) throws(ExportError) -> ExportJob? {
        guard let bytes = try POSIXFile.readAll(recordPath(id)) else { return nil }
        do {
            return try decode(bytes, expecting: id)
        } catch {
            if error.code == .corruptData { try moveAsideLocked(id, ifContentIs: bytes, reason: error) }
            throw error
        }
    }

    func writeRecord(_ job: ExportJob) throws(ExportError) {
        let bytes: [UInt8]
        do {
            // Dates as RFC 3339 UTC with nanoseconds (readable by jq and Python; a Double round-trips).
            bytes = Array(try RFC3339.recordEncoder().encode(job))
        } catch {
            throw ExportError(.encoding, "job \(job.id) cannot be encoded: \(error)", cause: error)
        }
        try POSIXFile.writeAtomically(bytes, to: recordPath(job.id), temporaryDirectory: temporaryDirectory)
    }

    /// Moves a corrupt record to `corrupt/`, unless it was replaced meanwhile.
    func moveAsideLocked(_ id: JobID, ifContentIs bytes: [UInt8], reason: ExportError) throws(ExportError) {
        guard let current = try POSIXFile.readAll(recordPath(id)), current == bytes else { return }
        let destination = corruptDirectory + "/" + id.rawValue + "." + POSIXFile.uniqueName() + ".json"
        if try POSIXFile.renameIfPresent(recordPath(id), to: destination) {
            corruptFiles.record(CorruptFileReport(path: recordPath(id), movedTo: destination, reason: reason.message))
        }
    }

    /// The non-terminal job holding a unique key, if any.
    func holderLocked(ofKey key: String) throws(ExportError) -> ExportJob? {
        guard let bytes = try POSIXFile.readAll(keyPath(key)),
            let holderID = JobID(String(decoding: bytes, as: UTF8.self))
        else { return nil }
        let holder: ExportJob?
        do {
            holder = try readLocked(holderID)
        } catch {
            guard error.code == .corruptData else { throw error }
            return nil
        }
        // A holder written by a newer version throws: it may well be active, and a second job for the
        // same key is exactly what the key exists to prevent.
        guard let holder, !holder.state.isTerminal, holder.uniqueKey == key else { return nil }
        return holder
    }

    func releaseKeyLocked(_ key: String, heldBy id: JobID) throws(ExportError) {
        let path = keyPath(key)
        guard let bytes = try POSIXFile.readAll(path), String(decoding: bytes, as: UTF8.self) == id.rawValue else {
            return
        }
        try POSIXFile.remove(path)
    }
}
