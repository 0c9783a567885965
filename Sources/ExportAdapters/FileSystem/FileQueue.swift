import ExportCore
import Foundation

/// A `Queue` over a spool directory that several worker processes on one machine can share.
///
/// Layout under the root:
/// - `ready/<visible-at ms>_<message id>.msg`: messages waiting; the name's time (milliseconds since
///   1970, rounded up) says when the message may be delivered, so delayed messages wait in place.
/// - `leased/<message id>_<lease token>.msg`: messages under a lease; the file name (without `.msg`)
///   is the `LeaseReceipt`, and the content records the lease expiry and the receive count, so
///   both survive restarts. Every receive makes a new token, so an old receipt never matches again.
/// - `dead/<dead-lettered-at ms>_<message id>.msg`: dead letters, with their reason.
/// - `corrupt/`: message files that could not be decoded (or whose name is not one the queue makes),
///   moved aside rather than failing receives, and reported to the `onCorruptFile` handler.
/// - `queue.lock`: every operation that moves a file holds an exclusive `flock` on it, so a receive
///   sweeping an expired lease back to `ready/` and the old holder acknowledging it cannot interleave.
///
/// A message changes directory only by one `rename` inside one file system (atomic), and its content
/// only by writing `tmp/` and renaming over the file; directories are synced after each step. So a
/// process killed at any instant leaves every message in exactly one of `ready/`, `leased/` or `dead/`.
/// A move that also changes content is two steps, ordered so the half-done state is recognisable and
/// finished by the next receive (which holds the lock, so nobody else is half-way):
/// - a receive renames `ready/` → `leased/` (the claim), then records the receive count and expiry.
///   A leased file without an expiry is such an interrupted claim (or an interrupted return, below):
///   it goes back to `ready/` with its receive count raised by one, so counts never go down and a
///   message that kills its receivers still reaches its attempt limit.
/// - a return to `ready/` (release, expired lease) first clears the expiry in place, then renames.
/// - a dead-lettering first records the reason in place, then renames; a leased file with a reason is
///   moved on to `dead/`.
/// A lease left by a killed worker expires and the next receive moves it back to `ready/`.
///
/// Costs: a receive lists `ready/` and `leased/` (O(messages waiting + in flight)).
public final class FileQueue: Queue {
    let root: String
    let clock: any ExportClock
    let pollInterval: Duration
    var readyDirectory: String { root + "/ready" }
    var leasedDirectory: String { root + "/leased" }
    var deadDirectory: String { root + "/dead" }
    var corruptDirectory: String { root + "/corrupt" }
    var temporaryDirectory: String { root + "/tmp" }
    var lockPath: String { root + "/queue.lock" }
    let corruptFiles: CorruptFileReporter
    /// Syncs (or not, per the durability) and group-commits the directory fsyncs of every operation.
    let committer: FileCommitter

    /// Opens (creating if needed) a spool directory.
    ///
    /// - Parameters:
    ///   - directory: The root directory; created with its parents when missing.
    ///   - clock: The clock for delays, leases and long polling.
    ///   - pollInterval: How often a receive with a wait time looks at the directory again.
    ///   - durability: What an acknowledged operation survives; ``FileDurability/powerLoss`` by default.
    ///   - onCorruptFile: Called once for every file moved to `corrupt/`, after the queue's lock is
    ///     released (so it may use the queue); log or alert there. `nil` to ignore.
    /// - Throws: `ExportError` when the directory cannot be created or used.
    public init(
        directory: URL, clock: any ExportClock = SystemClock(), pollInterval: Duration = .milliseconds(100),
        durability: FileDurability = .powerLoss, onCorruptFile: (@Sendable (CorruptFileReport) -> Void)? = nil
    ) throws(ExportError) {
        corruptFiles = CorruptFileReporter(onCorruptFile)
        committer = FileCommitter(durability: durability)
        root = try POSIXFile.prepareRoot(directory)
        self.clock = clock
        self.pollInterval = pollInterval > .zero ? pollInterval : .milliseconds(100)
        for path in [readyDirectory, leasedDirectory, deadDirectory, corruptDirectory, temporaryDirectory] {
            try POSIXFile.makeDirectory(path, inside: root)
        }
        // Temp files of processes killed in the middle of an atomic write.
        POSIXFile.removeOrphanedTemporaryFiles(in: temporaryDirectory)
    }

    /// Adds a message, atomically: it appears in `ready/` whole or not at all.
    ///
    /// - Parameters:
    ///   - message: The message.
    ///   - delay: How long before it may be delivered; zero for now.
    /// - Returns: The message's id.
    /// - Throws: `ExportError` when the spool cannot be written.
    @discardableResult
    public func enqueue(_ message: QueueMessage, delay: Duration) async throws -> MessageID {
        let now = clock.now()
        let id = MessageID(POSIXFile.uniqueName())
        let record = SpoolRecord(
            id: id.rawValue, jobID: message.jobID, receiveCount: 0, enqueuedAt: now,
            leaseExpiresAt: nil, reason: nil, deadLetteredAt: nil)
        let visibleAt = delay > .zero ? now.adding(delay) : now
        try write(record, to: readyPath(id: id.rawValue, visibleAt: visibleAt, delayed: delay > .zero))
        return id
    }

    /// Leases up to `max` visible messages, after moving expired leases back to `ready/`.
    ///
    /// With a zero `waitTime` it returns at once; otherwise it looks again every poll interval (on the
    /// clock) until a message arrives or the wait time has passed.
    ///
    /// - Parameters:
    ///   - max: The most messages to return (1 to 10).
    ///   - visibilityTimeout: How long the lease lasts.
    ///   - waitTime: How long to wait for a message when none is visible.
    /// - Returns: The leased deliveries.
    /// - Throws: `ExportError` when the spool cannot be read or written.
    public func receive(max: Int, visibilityTimeout: Duration, waitTime: Duration) async throws -> [Delivery] {
        let deadline = clock.now().adding(waitTime)
        while true {
            let deliveries = try await receiveOnce(max: Swift.min(Swift.max(max, 1), 10), visibilityTimeout: visibilityTimeout)
            if !deliveries.isEmpty { return deliveries }
            let now = clock.now()
            guard waitTime > .zero, now < deadline else { return [] }
            let remaining = Duration.milliseconds(POSIXFile.clampedInt64((deadline.timeIntervalSince(now) * 1000).rounded(.up)))
            try await clock.sleep(for: Swift.min(pollInterval, remaining))
        }
    }

    /// Deletes a delivered message.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    /// - Throws: `ExportError.Code.leaseLost` when the lease is no longer held.
    public func acknowledge(_ receipt: LeaseReceipt) async throws {
        try await locked { () throws(ExportError) in
            let (path, _) = try heldLeaseLocked(receipt)
            try POSIXFile.remove(path)
            try POSIXFile.syncDirectory(leasedDirectory)
        }
    }

    /// Gives a delivered message back, to be delivered again after `delay`.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - delay: How long it stays invisible; zero for now.
    /// - Throws: `ExportError.Code.leaseLost` when the lease is no longer held.
    public func release(_ receipt: LeaseReceipt, delay: Duration) async throws {
        let now = clock.now()
        try await locked { () throws(ExportError) in
            let (path, record) = try heldLeaseLocked(receipt)
            var released = record
            released.leaseExpiresAt = nil
            try write(released, to: path)
            try renameLocked(path, to: readyPath(id: record.id, visibleAt: now.adding(delay), delayed: delay > .zero))
        }
    }

    /// Extends a lease, counted from now.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - visibilityTimeout: The new lease length, counted from now.
    /// - Returns: When the extended lease expires.
    /// - Throws: `ExportError.Code.leaseLost` when the lease is no longer held.
    @discardableResult
    public func extendLease(_ receipt: LeaseReceipt, by visibilityTimeout: Duration) async throws -> Date {
        let expiry = clock.now().adding(visibilityTimeout)
        return try await locked { () throws(ExportError) -> Date in
            let (path, record) = try heldLeaseLocked(receipt)
            var extended = record
            extended.leaseExpiresAt = expiry
            try write(extended, to: path)
            return expiry
        }
    }

    /// Moves a delivered message to `dead/`.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - reason: Why, for the person who looks at dead letters.
    /// - Throws: `ExportError.Code.leaseLost` when the lease is no longer held.
    public func deadLetter(_ receipt: LeaseReceipt, reason: String) async throws {
        let now = clock.now()
        try await locked { () throws(ExportError) in
            let (path, record) = try heldLeaseLocked(receipt)
            var dead = record
            dead.leaseExpiresAt = nil
            dead.reason = reason
            dead.deadLetteredAt = now
            try write(dead, to: path)
            try renameLocked(path, to: deadPath(dead))
        }
    }

    // MARK: - Internals

    /// Runs `body` under `queue.lock`, then reports the files it moved aside (with the lock released).
    func locked<T>(_ body: () throws(ExportError) -> T) async throws(ExportError) -> T {
        defer { corruptFiles.flush() }
        return try await POSIXFile.withLock(lockPath, committer: committer, body)
    }

    /// A `ready/` path; a message visible now (no delay) is not rounded up into the next millisecond.
    func readyPath(id: String, visibleAt: Date, delayed: Bool = true) -> String {
        readyDirectory + "/" + POSIXFile.sortableMilliseconds(visibleAt, roundingUp: delayed) + "_" + id + ".msg"
    }

    func write(_ record: SpoolRecord, to path: String) throws(ExportError) {
        try POSIXFile.writeAtomically(try record.encoded(), to: path, temporaryDirectory: temporaryDirectory)
    }

    /// The `dead/` path of a dead-lettered record.
    func deadPath(_ record: SpoolRecord) -> String {
        deadDirectory + "/" + POSIXFile.sortableMilliseconds(record.deadLetteredAt ?? record.enqueuedAt) + "_" + record.id + ".msg"
    }

    /// Moves a message file with a single `rename` (so it is never in two directories, nor in none),
    /// then syncs both directories. Called under the lock.
    func renameLocked(_ source: String, to destination: String) throws(ExportError) {
        guard try POSIXFile.renameIfPresent(source, to: destination) else {
            throw ExportError(.notFound, "the spool file \(source) vanished under the queue lock")
        }
        let from = POSIXFile.directoryName(source)
        let to = POSIXFile.directoryName(destination)
        try POSIXFile.syncDirectory(to)
        if from != to { try POSIXFile.syncDirectory(from) }
    }

    /// The file and record of a lease that is still held (not swept back to `ready/`).
    func heldLeaseLocked(_ receipt: LeaseReceipt) throws(ExportError) -> (String, SpoolRecord) {
        let lost = ExportError(.leaseLost, "the lease \(receipt) is no longer held; the message may be with another consumer")
        guard Self.isSafeName(receipt.rawValue) else { throw lost }
        let path = leasedDirectory + "/" + receipt.rawValue + ".msg"
        guard let bytes = try POSIXFile.readAll(path) else { throw lost }
        guard let record = SpoolRecord(decoding: bytes) else {
            try moveAside(path, reason: "the leased message cannot be decoded")
            throw ExportError(.corruptData, "the leased message \(receipt) is corrupt and was moved to corrupt/")
        }
        return (path, record)
    }

    /// Moves an unusable file to `corrupt/` and notes the report (delivered once the lock is released).
    func moveAside(_ path: String, reason: String) throws(ExportError) {
        let name = path.split(separator: "/").last.map(String.init) ?? "message"
        let destination = corruptDirectory + "/" + POSIXFile.uniqueName() + "-" + name
        if try POSIXFile.renameIfPresent(path, to: destination) {
            corruptFiles.record(CorruptFileReport(path: path, movedTo: destination, reason: reason))
        }
    }

    /// Whether a name from outside (a receipt, an id) is safe to use as a file name.
    static func isSafeName(_ name: String) -> Bool {
        let utf8 = name.utf8
        return (1...100).contains(utf8.count)
            && utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || $0 == UInt8(ascii: "_") }
    }

    /// Splits `<prefix>_<id>.msg` into its time (milliseconds) and id.
    static func parseTimedName(_ name: String) -> (milliseconds: Int64, id: String)? {
        guard name.hasSuffix(".msg") else { return nil }
        let stem = name.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_"), let milliseconds = Int64(stem[..<underscore]) else { return nil }
        let id = String(stem[stem.index(after: underscore)...])
        guard isSafeName(id) else { return nil }
        return (milliseconds, id)
    }
}
