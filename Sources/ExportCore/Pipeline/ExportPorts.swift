import Foundation

/// Everything the pipeline runs on, as one value: the adapters of one backend, the clock, the observer,
/// and the settings that the service, the workers and the reconciler must agree on.
///
/// Each backend hands one out (`InMemoryBackend().ports`, `FileSystemBackend.ports`,
/// `AWSBackend.ports`); ``ExportService``, ``ExportWorker`` and ``Reconciler`` are built from it, so
/// the same job store, queue and retention cannot differ between them.
///
/// ```swift
/// let ports = backend.ports.observed(by: observer)
/// let service = try ExportService(ports: ports)
/// let worker = try ExportWorker(ports: ports, source: database)
/// let reconciler = try Reconciler(ports: ports)
/// ```
public struct ExportPorts: Sendable {
    /// Where jobs are recorded.
    public var jobStore: any JobStore
    /// Where job messages wait for a worker.
    public var queue: any Queue
    /// Where export files are stored.
    public var blobStore: any BlobStore
    /// How users are told.
    public var notifier: any Notifier
    /// The clock every part reads.
    public var clock: any ExportClock
    /// Receives every ``ExportEvent`` of every part.
    public var observer: any ExportObserver
    /// The settings every part must agree on.
    public var settings: ExportSettings
    /// Where schedules are kept, or `nil` when this host offers no schedules (the service's schedule
    /// calls then throw ``ExportError/Code/configuration``, and ``ExportScheduler`` cannot be built).
    public var scheduleStore: (any ScheduleStore)?
    /// Where the shared pause switch of the workers is kept, or `nil` when this host cannot pause
    /// workers (they then never pause, and ``ExportAdministration``'s pause calls throw
    /// ``ExportError/Code/unsupported``).
    public var workerControl: (any WorkerControlStore)?

    /// Combines adapters.
    ///
    /// - Parameters:
    ///   - jobStore: Where jobs are recorded.
    ///   - queue: Where job messages wait.
    ///   - blobStore: Where files are stored.
    ///   - notifier: How users are told.
    ///   - clock: The clock; the system clock by default.
    ///   - observer: The observer; none by default.
    ///   - settings: The shared settings.
    ///   - scheduleStore: Where schedules are kept; `nil` (no schedules) by default.
    ///   - workerControl: Where the workers' pause switch is kept; `nil` (never paused) by default.
    public init(
        jobStore: any JobStore,
        queue: any Queue,
        blobStore: any BlobStore,
        notifier: any Notifier,
        clock: any ExportClock = SystemClock(),
        observer: any ExportObserver = NoObserver(),
        settings: ExportSettings = ExportSettings(),
        scheduleStore: (any ScheduleStore)? = nil,
        workerControl: (any WorkerControlStore)? = nil
    ) {
        self.scheduleStore = scheduleStore
        self.workerControl = workerControl
        self.jobStore = jobStore
        self.queue = queue
        self.blobStore = blobStore
        self.notifier = notifier
        self.clock = clock
        self.observer = observer
        self.settings = settings
    }

    /// The same ports with events going to `observer` as well as to the current observer.
    ///
    /// - Parameters:
    ///   - observer: The added observer.
    /// - Returns: The ports.
    public func observed(by observer: any ExportObserver) -> ExportPorts {
        var ports = self
        ports.observer = self.observer is NoObserver ? observer : FanOutObserver([self.observer, observer])
        return ports
    }

    /// The same ports with other settings.
    ///
    /// - Parameters:
    ///   - change: Edits the settings.
    /// - Returns: The ports.
    public func with(_ change: (inout ExportSettings) -> Void) -> ExportPorts {
        var ports = self
        change(&ports.settings)
        return ports
    }
}

/// The settings the service, the workers and the reconciler must agree on, stated once in
/// ``ExportPorts/settings``.
///
/// They are checked when a part is created (``validate(against:)``): a link lifetime longer than the
/// retention or than the blob store can sign, a retention that is not positive, or a key prefix that does
/// not make a valid key is a ``ExportError/Code/configuration`` error saying what to change.
public struct ExportSettings: Hashable, Sendable {
    /// How long a finished job and its file are kept.
    public var retention: Duration
    /// How long an expired job's record is kept (without its file), so its status and download routes
    /// can answer "expired" (410) rather than "not found".
    public var expiredRecordRetention: Duration
    /// How long the link in a "ready" e-mail works. At most ``retention`` and the blob store's
    /// ``BlobStore/maximumLinkLifetime``.
    public var linkLifetime: Duration
    /// The blob key prefix; each attempt writes `<prefix>/<job id>-<attempt>.<extension>`.
    public var keyPrefix: String
    /// The stable address "ready" e-mails carry, on the host's public URL, or `nil` to e-mail a direct
    /// link to the file that works for ``linkLifetime``. Set it whenever the host serves
    /// `GET /exports/{id}/download` (`ExportHTTPAPI` does): the e-mail then holds no storage URL, works
    /// until the file expires whatever the storage credentials' lifetime, and dies when the user
    /// deletes the export; each click gets a link of minutes.
    public var downloadAddress: DownloadAddress?

    /// Creates settings.
    ///
    /// - Parameters:
    ///   - retention: How long finished jobs and files are kept; 7 days by default.
    ///   - expiredRecordRetention: How long expired records are kept; 30 days by default.
    ///   - linkLifetime: How long e-mailed links work; 7 days by default (S3's longest).
    ///   - keyPrefix: The blob key prefix; `exports` by default.
    ///   - downloadAddress: The stable address e-mails carry, or `nil` for direct links.
    public init(
        retention: Duration = .seconds(7 * 24 * 3600),
        expiredRecordRetention: Duration = .seconds(30 * 24 * 3600),
        linkLifetime: Duration = .seconds(7 * 24 * 3600),
        keyPrefix: String = "exports",
        downloadAddress: DownloadAddress? = nil
    ) {
        self.retention = retention
        self.expiredRecordRetention = expiredRecordRetention
        self.linkLifetime = linkLifetime
        self.keyPrefix = keyPrefix
        self.downloadAddress = downloadAddress
    }

    /// The link a "ready" e-mail carries for a job whose file expires at `fileExpiresAt`: the stable
    /// ``downloadAddress`` until then, or `nil` when the e-mail carries a direct link.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    ///   - fileExpiresAt: When the file is deleted.
    /// - Returns: The link, or `nil`.
    public func stableLink(for id: JobID, fileExpiresAt: Date) -> DownloadLink? {
        downloadAddress.map { DownloadLink(url: $0.url(for: id), expiresAt: fileExpiresAt) }
    }

    /// Checks the settings against each other and against the blob store.
    ///
    /// - Parameters:
    ///   - blobStore: The blob store the links come from.
    /// - Throws: ``ExportError/Code/configuration`` naming the setting to change.
    public func validate(against blobStore: any BlobStore) throws(ExportError) {
        guard retention > .zero else {
            throw ExportError(.configuration, "settings.retention must be positive, not \(retention)")
        }
        guard expiredRecordRetention >= .zero else {
            throw ExportError(.configuration, "settings.expiredRecordRetention must not be negative")
        }
        guard linkLifetime > .zero else {
            throw ExportError(.configuration, "settings.linkLifetime must be positive, not \(linkLifetime)")
        }
        guard linkLifetime <= retention else {
            throw ExportError(
                .configuration,
                "settings.linkLifetime (\(linkLifetime)) is longer than settings.retention (\(retention)): a link would outlive its file; shorten the link or keep files longer")
        }
        if let maximum = blobStore.maximumLinkLifetime, linkLifetime > maximum {
            throw ExportError(
                .configuration,
                "settings.linkLifetime (\(linkLifetime)) is longer than this blob store can sign (\(maximum)); set settings.linkLifetime to at most \(maximum)")
        }
        do {
            _ = try BlobKey(validating: "\(keyPrefix)/probe")
        } catch {
            throw ExportError(.configuration, "settings.keyPrefix \(String(reflecting: keyPrefix)) does not make a valid blob key")
        }
    }
}
