import Foundation

extension ExportService {
    /// Deletes one of the requester's finished exports before its retention ends: its files are
    /// deleted and its record becomes a tombstone, so its status says `expired` and its download
    /// address answers 410 (as GitHub's account export allows). A running or queued export is
    /// cancelled with ``cancel(_:requester:)`` instead.
    ///
    /// Files first, as the ``Reconciler``'s expiry: the record is first marked as expiring now (the
    /// download refuses it from that instant), then the files go, then the record becomes a
    /// tombstone. A crash or a failed delete at any step leaves a record that still names the files and
    /// has expired, which the Reconciler's next expiry pass finishes.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    ///   - requester: The authenticated user asking (the owner).
    /// - Returns: The tombstone (``ExportJob/expiredAt`` set).
    /// - Throws: ``ExportError/Code/notFound`` for an unknown or foreign job;
    ///   ``ExportError/Code/illegalTransition`` for one that has not finished; a port's error.
    @discardableResult
    public func deleteExport(_ id: JobID, requester: UserID) async throws -> ExportJob {
        let now = clock.now()
        var alreadyTombstone = false
        let marked = try await ports.jobStore.modify(id) { job throws(ExportError) in
            guard job.owner == requester else { throw ExportError(.notFound, "no export \(id)") }
            guard job.state.isTerminal else {
                throw ExportError(.illegalTransition, "export \(id) is \(job.state.rawValue); cancel it instead of deleting it")
            }
            if job.expiredAt != nil {
                alreadyTombstone = true
                return false
            }
            guard job.expiresAt.map({ $0 > now }) ?? true else { return false }
            job.expiresAt = now
            job.updatedAt = now
            return true
        }
        guard let job = marked else { throw ExportError(.notFound, "no export \(id)") }
        if alreadyTombstone { return job }
        if let key = job.result?.blobKey { try await ports.blobStore.delete(key) }
        for key in try ExportWorker.attemptKeys(prefix: ports.settings.keyPrefix, for: job) { try await ports.blobStore.delete(key) }
        // On the fresh record, not the one read above: the worker may have recorded the e-mail as sent
        // meanwhile (a DELETE right after the export finished), and the Reconciler may have made the
        // tombstone already; neither is a reason to fail the user's request.
        var madeHere = false
        let tombstoned = try await ports.jobStore.modify(id) { current throws(ExportError) in
            madeHere = false
            guard current.expiredAt == nil else { return false }
            current.uniqueKey = nil
            current.expiredAt = now
            current.expiresAt = now.adding(ports.settings.expiredRecordRetention)
            current.updatedAt = now
            madeHere = true
            return true
        }
        guard let tombstone = tombstoned else { throw ExportError(.notFound, "no export \(id)") }
        guard madeHere else { return tombstone }
        ports.observer.observe(.deleted(id))
        return tombstone
    }
}
