import ExportCore
import Foundation

extension FileQueue {
    /// One pass: sweep expired leases back to `ready/`, then lease the earliest visible messages.
    func receiveOnce(max: Int, visibilityTimeout: Duration) async throws(ExportError) -> [Delivery] {
        let now = clock.now()
        let nowMilliseconds = POSIXFile.clampedInt64((now.timeIntervalSince1970 * 1000).rounded(.down))
        return try await locked { () throws(ExportError) -> [Delivery] in
            try sweepExpiredLeasesLocked(now: now)
            var candidates: [(milliseconds: Int64, name: String)] = []
            for name in try POSIXFile.list(readyDirectory) {
                if name.hasSuffix(".tmp") { continue }
                guard let parsed = Self.parseTimedName(name) else {
                    try moveAside(readyDirectory + "/" + name, reason: "the name is not <visible-at ms>_<message id>.msg")
                    continue
                }
                if parsed.milliseconds <= nowMilliseconds { candidates.append((parsed.milliseconds, name)) }
            }
            candidates.sort { ($0.milliseconds, $0.name) < ($1.milliseconds, $1.name) }
            var deliveries: [Delivery] = []
            for candidate in candidates where deliveries.count < max {
                let source = readyDirectory + "/" + candidate.name
                guard let bytes = try POSIXFile.readAll(source) else { continue }
                guard let record = SpoolRecord(decoding: bytes), Self.parseTimedName(candidate.name)?.id == record.id else {
                    try moveAside(source, reason: "the message cannot be decoded, or holds another id than its name")
                    continue
                }
                var leased = record
                leased.receiveCount += 1
                let expiry = now.adding(visibilityTimeout)
                leased.leaseExpiresAt = expiry
                leased.reason = nil
                leased.deadLetteredAt = nil
                let receipt = record.id + "_" + POSIXFile.uniqueName()
                let destination = leasedDirectory + "/" + receipt + ".msg"
                // Claim with one rename, then record count and expiry; a crash in between leaves a leased
                // file without expiry, which the next sweep returns to ready/ with its count raised.
                try renameLocked(source, to: destination)
                try write(leased, to: destination)
                deliveries.append(
                    Delivery(
                        id: MessageID(record.id), message: QueueMessage(jobID: record.jobID),
                        receipt: LeaseReceipt(receipt), receiveCount: leased.receiveCount, leaseExpiresAt: expiry))
            }
            return deliveries
        }
    }

    /// Which of `jobs` have a message in `ready/` or `leased/` (an expired lease included), read under
    /// the queue's lock so that no message is between directories while it looks. Reads every waiting
    /// and leased message (O(messages in the queue)): meant for the reconciler's pass, not for each
    /// request.
    ///
    /// - Parameters:
    ///   - jobs: The jobs to look for.
    /// - Returns: The jobs with a live message; never `nil`.
    /// - Throws: `ExportError` when the spool cannot be read.
    public func jobsWithLiveMessages(among jobs: Set<JobID>) async throws -> Set<JobID>? {
        guard !jobs.isEmpty else { return [] }
        return try await locked { () throws(ExportError) -> Set<JobID> in
            var live = Set<JobID>()
            for directory in [readyDirectory, leasedDirectory] {
                for name in try POSIXFile.list(directory) where name.hasSuffix(".msg") {
                    // An undecodable file is the receive path's to move aside; it holds no job here.
                    guard let bytes = try POSIXFile.readAll(directory + "/" + name), let record = SpoolRecord(decoding: bytes) else { continue }
                    if jobs.contains(record.jobID) { live.insert(record.jobID) }
                }
            }
            return live
        }
    }

    /// Moves every lease that has run out back to `ready/`, visible now, and finishes moves that a
    /// killed process left half-done (see the type's documentation).
    func sweepExpiredLeasesLocked(now: Date) throws(ExportError) {
        for name in try POSIXFile.list(leasedDirectory) where name.hasSuffix(".msg") {
            let path = leasedDirectory + "/" + name
            guard let bytes = try POSIXFile.readAll(path) else { continue }
            guard let record = SpoolRecord(decoding: bytes) else {
                try moveAside(path, reason: "the leased message cannot be decoded")
                continue
            }
            if record.deadLetteredAt != nil {
                // A dead-lettering interrupted after recording its reason.
                try renameLocked(path, to: deadPath(record))
                continue
            }
            guard let expiry = record.leaseExpiresAt else {
                // A claim interrupted before recording its lease (or a return before its rename): count
                // the interrupted delivery, conservatively, so receive counts only ever grow.
                var returned = record
                returned.receiveCount += 1
                try write(returned, to: path)
                try renameLocked(path, to: readyPath(id: record.id, visibleAt: now, delayed: false))
                continue
            }
            if expiry <= now {
                var returned = record
                returned.leaseExpiresAt = nil
                try write(returned, to: path)
                try renameLocked(path, to: readyPath(id: record.id, visibleAt: now, delayed: false))
            }
        }
    }

    /// Lists dead letters, oldest first. Unusable files in `dead/` are moved to `corrupt/` and reported.
    ///
    /// - Parameters:
    ///   - limit: The most to return.
    /// - Returns: The dead letters.
    /// - Throws: `ExportError` when the spool cannot be read.
    public func deadLetters(limit: Int) async throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        var corrupt: [String] = []
        for name in try POSIXFile.list(deadDirectory).sorted() where letters.count < limit {
            guard let bytes = try POSIXFile.readAll(deadDirectory + "/" + name) else { continue }
            guard let record = Self.deadLetter(named: name, bytes) else {
                corrupt.append(name)
                continue
            }
            letters.append(
                DeadLetter(
                    id: MessageID(record.id), message: QueueMessage(jobID: record.jobID), reason: record.reason ?? "",
                    receiveCount: record.receiveCount, deadLetteredAt: record.deadLetteredAt ?? record.enqueuedAt))
        }
        if !corrupt.isEmpty {
            try await locked { () throws(ExportError) in
                for name in corrupt {
                    // Checked again under the lock: only files that are still unusable are moved.
                    let path = deadDirectory + "/" + name
                    guard let bytes = try POSIXFile.readAll(path), Self.deadLetter(named: name, bytes) == nil else { continue }
                    try moveAside(path, reason: "the dead letter cannot be decoded, or its name is not <at ms>_<message id>.msg")
                }
            }
        }
        return letters
    }

    /// The record of a `dead/` file, or `nil` when the file is unusable.
    static func deadLetter(named name: String, _ bytes: [UInt8]) -> SpoolRecord? {
        guard let parsed = parseTimedName(name), let record = SpoolRecord(decoding: bytes), record.id == parsed.id else { return nil }
        return record
    }

    /// Moves dead letters back to `ready/` as fresh messages (receive count 0), visible now.
    ///
    /// - Parameters:
    ///   - ids: The dead letters to move; `nil` for all of them.
    /// - Returns: How many were moved.
    /// - Throws: `ExportError` when the spool cannot be written.
    @discardableResult
    public func redrive(_ ids: [MessageID]?) async throws -> Int {
        let wanted = ids.map { Set($0.map(\.rawValue)) }
        let now = clock.now()
        return try await locked { () throws(ExportError) -> Int in
            var moved = 0
            for name in try POSIXFile.list(deadDirectory).sorted() {
                guard let parsed = Self.parseTimedName(name) else { continue }
                if let wanted, !wanted.contains(parsed.id) { continue }
                let path = deadDirectory + "/" + name
                guard let bytes = try POSIXFile.readAll(path), let record = SpoolRecord(decoding: bytes) else {
                    try moveAside(path, reason: "the dead letter cannot be decoded")
                    continue
                }
                let fresh = SpoolRecord(
                    id: record.id, jobID: record.jobID, receiveCount: 0, enqueuedAt: now,
                    leaseExpiresAt: nil, reason: nil, deadLetteredAt: nil)
                // Rewritten in place, then live again with one rename: files in ready/ never carry a
                // lease or a dead-letter mark. A crash in between leaves a reasonless dead letter that
                // the next redrive moves.
                try write(fresh, to: path)
                try renameLocked(path, to: readyPath(id: record.id, visibleAt: now, delayed: false))
                moved += 1
            }
            return moved
        }
    }
}
