import ExportCore
import Foundation

/// The four file-system adapters under one data directory, with the conventional layout:
/// `jobs/`, `queue/`, `files/` and `outbox/`. Every process that opens the same directory shares them.
///
/// ```swift
/// let backend = try FileSystemBackend(
///     directory: URL(fileURLWithPath: "/var/lib/exports"), linkSecret: secret,
///     linkBaseURL: URL(string: "https://exports.example.com/downloads")!,
///     from: EmailAddress("exports@example.com")!)
/// let service = ExportService(jobStore: backend.jobStore, queue: backend.queue, blobStore: backend.blobStore)
/// let worker = ExportWorker(
///     jobStore: backend.jobStore, queue: backend.queue, blobStore: backend.blobStore,
///     notifier: backend.notifier, source: database)
/// ```
public struct FileSystemBackend: Sendable {
    /// The data directory.
    public let directory: URL
    /// Jobs, in `jobs/`.
    public let jobStore: FileJobStore
    /// The spool, in `queue/`.
    public let queue: FileQueue
    /// Export files, in `files/` (the finished files themselves in `files/blobs/`).
    public let blobStore: FileBlobStore
    /// E-mails, one `.eml` per notification, in `outbox/`.
    public let notifier: OutboxNotifier

    /// Opens (creating if needed) the adapters under a directory.
    ///
    /// - Parameters:
    ///   - directory: The data directory.
    ///   - linkSecret: The secret that signs download links (at least 16 bytes).
    ///   - linkBaseURL: The public URL of the host's download route.
    ///   - from: The sender of the e-mails.
    ///   - clock: The clock of every adapter; the system clock by default.
    ///   - onCorruptFile: Called once for every job record or queue file moved to a `corrupt/`
    ///     directory (see ``CorruptFileReport``); `nil` to ignore.
    /// - Throws: ``ExportError`` when a directory cannot be created or used, or the secret is too short.
    public init(
        directory: URL,
        linkSecret: [UInt8],
        linkBaseURL: URL = URL(string: "http://localhost:8080/downloads")!,
        from: EmailAddress,
        clock: any ExportClock = SystemClock(),
        onCorruptFile: (@Sendable (CorruptFileReport) -> Void)? = nil
    ) throws(ExportError) {
        self.directory = directory
        // Every folder of the data directory stays inside it (each adapter checks its own subfolders).
        let root = try POSIXFile.prepareRoot(directory)
        for name in ["jobs", "queue", "files", "outbox"] { try POSIXFile.makeDirectory(root + "/" + name, inside: root) }
        jobStore = try FileJobStore(directory: directory.appendingPathComponent("jobs", isDirectory: true), onCorruptFile: onCorruptFile)
        queue = try FileQueue(
            directory: directory.appendingPathComponent("queue", isDirectory: true), clock: clock, onCorruptFile: onCorruptFile)
        blobStore = try FileBlobStore(
            configuration: .init(
                directory: directory.appendingPathComponent("files", isDirectory: true), linkSecret: linkSecret,
                linkBaseURL: linkBaseURL),
            clock: clock)
        notifier = try OutboxNotifier(directory: directory.appendingPathComponent("outbox", isDirectory: true), from: from, clock: clock)
    }
}
