import ExportCore
import Foundation

extension FileJobStore {
    /// Lists one owner's jobs, newest first (by creation time, then by id, both descending).
    ///
    /// Reads the owner's index directory and one record per returned job. Index entries whose record
    /// is missing (a create interrupted by a crash), or whose record has another entry (that create's
    /// id was then created again), are skipped and removed; corrupt records are
    /// skipped, moved to `corrupt/` and reported to the `onCorruptFile` handler. A record written by a
    /// newer version (a state this version does not know) fails the listing with
    /// `ExportError.Code.unsupportedVersion`: skipping it would let a caller think the owner has no
    /// export and request a second one.
    ///
    /// - Parameters:
    ///   - owner: The owner.
    ///   - cursor: Where the previous page ended, or `nil` for the first page.
    ///   - limit: The most jobs to return (at least 1).
    /// - Returns: The page and the cursor of the next page, if any.
    /// - Throws: `ExportError.Code.invalidRequest` for a cursor this store did not make,
    ///   `ExportError.Code.unsupportedVersion` for a newer version's record, or another
    ///   `ExportError` when storage fails.
    public func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        let limit = max(1, limit)
        if let cursor, Self.jobID(ofIndexEntry: cursor.token) == nil {
            throw ExportError(.invalidRequest, "the listing cursor is not one this job store made")
        }
        let directory = ownerIndexDirectory(owner)
        var entries = try POSIXFile.list(directory).filter { Self.jobID(ofIndexEntry: $0) != nil }
        entries.sort(by: >)
        if let cursor {
            entries = entries.filter { $0 < cursor.token }
        }
        var items: [ExportJob] = []
        var dangling: [String] = []
        var consumed = 0
        for entry in entries {
            guard items.count < limit else { break }
            consumed += 1
            guard let id = Self.jobID(ofIndexEntry: entry) else { continue }
            let job: ExportJob?
            do {
                job = try await get(id)
            } catch let error as ExportError where error.code == .corruptData {
                continue
            }
            guard let job else {
                dangling.append(entry)
                continue
            }
            guard job.owner == owner else { continue }
            // An entry left by a create that died before writing its record, whose id a later create
            // then took (ids derived from a key, such as a schedule run's, repeat): the record has its
            // own entry, so this one would list the job twice.
            guard Self.indexEntry(job) == entry else {
                dangling.append(entry)
                continue
            }
            items.append(job)
        }
        if !dangling.isEmpty { try await removeDanglingEntries(dangling, in: directory) }
        let next = consumed < entries.count && consumed > 0 ? PageCursor(entries[consumed - 1]) : nil
        return Page(items: items, next: next)
    }

    /// Lists jobs across owners, oldest first (by creation time, then id), for operators: scans every
    /// record for each page (O(jobs)), which suits a single machine's jobs. Corrupt records are moved
    /// aside, reported and skipped, as in the other scans.
    ///
    /// - Parameters:
    ///   - filter: Which states and ages.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most jobs to return (at least 1).
    /// - Returns: The page.
    /// - Throws: `ExportError.Code.invalidRequest` for a bad limit or cursor; `ExportError` when
    ///   storage fails.
    public func jobs(matching filter: JobFilter, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        if let cursor { _ = try JobPosition(cursor) }  // a bad cursor is refused before the scan
        return try JobPosition.page(of: try await scan(), matching: filter, after: cursor, limit: max(1, limit))
    }

    /// Finds jobs in the given states not updated since `updatedBefore`, scanning every record.
    ///
    /// - Parameters:
    ///   - states: The states to look for.
    ///   - updatedBefore: Only jobs whose `ExportJob.updatedAt` is earlier than this.
    ///   - limit: The most jobs to return.
    /// - Returns: Matching jobs, in no particular order.
    /// - Throws: `ExportError` when storage fails.
    public func stale(in states: Set<JobState>, updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        var found: [ExportJob] = []
        for job in try await scan() where found.count < limit {
            if states.contains(job.state) && job.updatedAt < updatedBefore { found.append(job) }
        }
        return found
    }

    /// Finds ended jobs whose notification is pending, last updated before `updatedBefore`, scanning
    /// every record.
    ///
    /// - Parameters:
    ///   - updatedBefore: Only jobs whose `ExportJob.updatedAt` is earlier than this.
    ///   - limit: The most jobs to return.
    /// - Returns: Matching jobs, in no particular order.
    /// - Throws: `ExportError` when storage fails.
    public func unnotified(updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        var found: [ExportJob] = []
        for job in try await scan() where found.count < limit {
            if job.notificationPending && job.updatedAt < updatedBefore { found.append(job) }
        }
        return found
    }

    /// Finds jobs whose `ExportJob.expiresAt` is at or before `now`, scanning every record; changes
    /// nothing.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - limit: The most jobs to return.
    /// - Returns: The expired jobs.
    /// - Throws: `ExportError` when storage fails.
    public func expired(now: Date, limit: Int) async throws -> [ExportJob] {
        var found: [ExportJob] = []
        for job in try await scan() where found.count < limit {
            if let expiry = job.expiresAt, expiry <= now { found.append(job) }
        }
        return found
    }

    /// Deletes a job if its stored version is the one given, with its index entry and unique key; a
    /// missing job is already deleted.
    ///
    /// - Parameters:
    ///   - job: The job as read.
    /// - Throws: `ExportError.Code.versionConflict` when the stored version differs, or
    ///   `ExportError` when storage fails.
    public func delete(_ job: ExportJob) async throws {
        try await locked { () throws(ExportError) in
            guard let stored = try readLocked(job.id) else { return }
            guard stored.version == job.version else {
                throw ExportError(.versionConflict, "job \(job.id) is at version \(stored.version), not \(job.version)")
            }
            try POSIXFile.remove(recordPath(stored.id))
            // An index entry or key left behind by a crash here is harmless: listings drop dangling
            // entries, and a terminal job's key was released when it ended.
            try? POSIXFile.remove(ownerIndexDirectory(stored.owner) + "/" + Self.indexEntry(stored))
            if let key = stored.uniqueKey { try? releaseKeyLocked(key, heldBy: stored.id) }
            try POSIXFile.syncDirectory(jobsDirectory)
        }
    }

    /// Every decodable record; corrupt ones are moved aside, reported and skipped.
    func scan() async throws(ExportError) -> [ExportJob] {
        var jobs: [ExportJob] = []
        for name in try POSIXFile.list(jobsDirectory) where name.hasSuffix(".json") {
            guard let id = JobID(String(name.dropLast(5))), let bytes = try POSIXFile.readAll(recordPath(id)) else {
                continue
            }
            do {
                // A record holding another id (a case twin) is not corrupt; it is simply skipped.
                if let job = try decode(bytes, expecting: id) { jobs.append(job) }
            } catch {
                guard error.code == .corruptData else {
                    // A newer version's record: left alone (this version cannot requeue or expire it
                    // correctly), and reported so the operator knows why.
                    corruptFiles.record(CorruptFileReport(path: recordPath(id), movedTo: recordPath(id), reason: error.message))
                    corruptFiles.flush()
                    continue
                }
                try await locked { () throws(ExportError) in try moveAsideLocked(id, ifContentIs: bytes, reason: error) }
            }
        }
        return jobs
    }

    private func removeDanglingEntries(_ entries: [String], in directory: String) async throws {
        try await locked { () throws(ExportError) in
            for entry in entries {
                guard let id = Self.jobID(ofIndexEntry: entry) else { continue }
                // Under the lock no create is half-way, so a missing record really is gone, and a record
                // whose own entry is another one (another creation time) will never be this entry's.
                guard let bytes = try POSIXFile.readAll(recordPath(id)) else {
                    try POSIXFile.remove(directory + "/" + entry)
                    continue
                }
                if let job = try? decode(bytes, expecting: id), Self.indexEntry(job) != entry {
                    try POSIXFile.remove(directory + "/" + entry)
                }  // an undecodable record is left to `get`, which reports it and moves it aside
            }
        }
    }
}
