import ExportCore
import Foundation

/// The four file-system adapters under one data directory, with the conventional layout:
/// `jobs/`, `queue/`, `files/` and `outbox/`. Every process that opens the same directory shares them.
///
/// Corrupt records that the job store or the queue set aside reach the backend's observer as
/// `ExportEvent.Name.corruptRecord` events, with every other event of the pipeline.
///
/// ```swift
/// let backend = try FileSystemBackend(
///     directory: URL(fileURLWithPath: "/var/lib/exports"), linkSecret: secret,
///     linkBaseURL: URL(string: "https://exports.example.com/api/v1/downloads")!,
///     from: try EmailAddress(validating: "exports@example.com"), observer: observer)
/// let service = try ExportService(ports: backend.ports)
/// let worker = try ExportWorker(ports: backend.ports, source: database)
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
    /// Schedules (`schedules/`).
    public let scheduleStore: FileScheduleStore
    /// The workers' pause switch, in `control/workers.json`.
    public let workerControl: FileWorkerControlStore
    /// The ports, for `ExportService`, `ExportWorker` and `Reconciler`.
    public let ports: ExportPorts

    /// Opens (creating if needed) the adapters under a directory.
    ///
    /// - Parameters:
    ///   - directory: The data directory.
    ///   - linkSecret: The secret that signs download links (at least 16 bytes).
    ///   - linkBaseURL: The public URL of the host's download route.
    ///   - from: The sender of the e-mails.
    ///   - clock: The clock of every adapter; the system clock by default.
    ///   - observer: Receives every event of the pipeline, and a `ExportEvent.Name.corruptRecord`
    ///     event for every job record or queue file moved to a `corrupt/` directory.
    ///   - settings: The shared settings.
    ///   - durability: What every acknowledged write of the four adapters survives:
    ///     ``FileDurability/powerLoss`` (the default) or ``FileDurability/processCrash``.
    /// - Throws: `ExportError` when a directory cannot be created or used, or the secret is too short.
    public init(
        directory: URL,
        linkSecret: [UInt8],
        linkBaseURL: URL,
        from: EmailAddress,
        clock: any ExportClock = SystemClock(),
        observer: any ExportObserver = NoObserver(),
        settings: ExportSettings = ExportSettings(),
        durability: FileDurability = .powerLoss
    ) throws(ExportError) {
        self.directory = directory
        // Every folder of the data directory stays inside it (each adapter checks its own subfolders).
        let root = try POSIXFile.prepareRoot(directory)
        for name in ["jobs", "queue", "files", "outbox", "schedules", "control"] { try POSIXFile.makeDirectory(root + "/" + name, inside: root) }
        let onCorruptFile: @Sendable (CorruptFileReport) -> Void = { report in
            observer.observe(.corruptRecord(path: report.path, reason: "\(report.reason); moved to \(report.movedTo)"))
        }
        jobStore = try FileJobStore(
            directory: directory.appendingPathComponent("jobs", isDirectory: true), durability: durability, onCorruptFile: onCorruptFile)
        queue = try FileQueue(
            directory: directory.appendingPathComponent("queue", isDirectory: true), clock: clock, durability: durability,
            onCorruptFile: onCorruptFile)
        blobStore = try FileBlobStore(
            configuration: .init(
                directory: directory.appendingPathComponent("files", isDirectory: true), linkSecret: linkSecret,
                linkBaseURL: linkBaseURL, durability: durability),
            clock: clock)
        notifier = try OutboxNotifier(
            directory: directory.appendingPathComponent("outbox", isDirectory: true), from: from, clock: clock, durability: durability)
        scheduleStore = try FileScheduleStore(
            directory: directory.appendingPathComponent("schedules", isDirectory: true), onCorruptFile: onCorruptFile)
        workerControl = try FileWorkerControlStore(
            directory: directory.appendingPathComponent("control", isDirectory: true), durability: durability)
        ports = ExportPorts(
            jobStore: jobStore, queue: queue, blobStore: blobStore, notifier: notifier, clock: clock, observer: observer, settings: settings,
            scheduleStore: scheduleStore, workerControl: workerControl)
    }
}
