import Foundation

/// The API side: accepts export requests, answers status, cancel and list calls.
///
/// A request returns as soon as the job is recorded and queued; the export itself runs in an
/// ``ExportWorker``. Every call takes the requesting user, and a user who is not a job's owner gets
/// ``ExportError/Code/notFound`` for it, exactly as for a job that does not exist.
public struct ExportService: Sendable {
    let ports: ExportPorts
    private var jobStore: any JobStore { ports.jobStore }
    private var queue: any Queue { ports.queue }
    private var blobStore: any BlobStore { ports.blobStore }
    /// The clock every part reads (from the ports).
    public var clock: any ExportClock { ports.clock }
    private var observer: any ExportObserver { ports.observer }
    /// The configuration.
    public let configuration: Configuration
    /// The shared settings (from the ports).
    public var settings: ExportSettings { ports.settings }

    /// Creates a service.
    ///
    /// - Parameters:
    ///   - ports: The backend's ports and the shared settings.
    ///   - configuration: Validation and limits.
    /// - Throws: ``ExportError/Code/configuration`` when the settings or the configuration do not hold
    ///   together (see ``ExportSettings/validate(against:)`` and ``Configuration``).
    public init(ports: ExportPorts, configuration: Configuration = Configuration()) throws(ExportError) {
        try ports.settings.validate(against: ports.blobStore)
        try configuration.validate()
        self.ports = ports
        self.configuration = configuration
    }

    /// Accepts a request: validates it, returns the owner's active export if there is one, applies the
    /// rate limit, records the job and queues it.
    ///
    /// - Parameters:
    ///   - request: The request.
    /// - Returns: The ticket of the new or existing job.
    /// - Throws: ``ExportError`` with ``ExportError/Code/invalidRecipient``,
    ///   ``ExportError/Code/unsupportedFormat`` or ``ExportError/Code/unknownColumn`` for bad input;
    ///   ``ExportError/Code/rateLimited`` with ``ExportError/retryAt``; or a port's error. When queueing
    ///   fails after the job was recorded, the error is thrown and the ``Reconciler`` queues the job later.
    public func request(_ request: ExportRequest) async throws -> ExportTicket {
        do {
            return try await accept(request)
        } catch {
            observer.observe(.rejected(owner: request.owner, error: ExportError.wrapping(error)))
            throw error
        }
    }

    private func accept(_ request: ExportRequest) async throws -> ExportTicket {
        var options = try options(format: request.format, columns: request.columns)
        options.range = request.range
        let recipient = request.recipient
        let now = clock.now()
        let recent = try await recentJobs(of: request.owner, now: now)
        if let active = recent.first(where: { !$0.state.isTerminal }) {
            observer.observe(.deduplicated(active.id, owner: request.owner))
            return ExportTicket(job: active, deduplicated: true)
        }
        if let limit = configuration.rateLimit {
            let windowStart = now.adding(.zero - limit.window)
            let inWindow = recent.filter { $0.createdAt > windowStart }
            if inWindow.count >= limit.maxRequests, let oldest = inWindow.map(\.createdAt).min() {
                let retryAt = oldest.adding(limit.window)
                throw ExportError(
                    .rateLimited,
                    "at most \(limit.maxRequests) exports per \(limit.window); try again at \(RFC3339.string(retryAt) ?? "\(retryAt)")",
                    isRetryable: true,
                    retryAt: retryAt
                )
            }
        }
        let job = ExportJob(
            id: configuration.makeJobID(),
            owner: request.owner,
            recipient: recipient,
            options: options,
            createdAt: now,
            uniqueKey: "active-export:\(request.owner.rawValue)"
        )
        let message = QueueMessage(jobID: job.id)
        // Recorded and queued in one step where the store can (one round trip), else one after the other.
        let creation: JobCreation
        let queued: Bool
        if let store = jobStore as? any EnqueueingJobStore, let folded = try await store.create(job, enqueueing: message, on: queue) {
            (creation, queued) = (folded, true)
        } else {
            (creation, queued) = (try await jobStore.create(job), false)
        }
        switch creation {
        case .existing(let existing):
            observer.observe(.deduplicated(existing.id, owner: request.owner))
            return ExportTicket(job: existing, deduplicated: true)
        case .created(let created):
            if !queued { try await queue.enqueue(message) }
            observer.observe(.accepted(created.id, owner: created.owner, format: options.format))
            return ExportTicket(job: created, deduplicated: false)
        }
    }

    /// The owner's active (not yet ended) export: the one ``request(_:)`` answers with instead of
    /// starting another.
    ///
    /// - Parameters:
    ///   - owner: The owner.
    /// - Returns: The active export, or `nil`.
    /// - Throws: The job store's error.
    public func activeExport(of owner: UserID) async throws -> ExportJob? {
        try await recentJobs(of: owner, now: clock.now()).first { !$0.state.isTerminal }
    }

    /// The owner's newest jobs: enough to cover the rate limit's window (up to its maximum), or the
    /// newest one without a rate limit. Pages through the listing, since an adapter may return short
    /// pages (filtered scans, skipped corrupt records).
    private func recentJobs(of owner: UserID, now: Date) async throws -> [ExportJob] {
        let wanted = max(1, configuration.rateLimit?.maxRequests ?? 1)
        let windowStart = configuration.rateLimit.map { now.adding(.zero - $0.window) }
        var jobs: [ExportJob] = []
        var cursor: PageCursor?
        for _ in 0..<1000 {  // bounded even for an adapter whose cursors never end
            let page = try await jobStore.list(owner: owner, after: cursor, limit: min(100, wanted - jobs.count))
            jobs += page.items
            cursor = page.next
            guard cursor != nil else { break }
            if jobs.count >= wanted { break }
            if let windowStart, let oldest = jobs.last, oldest.createdAt <= windowStart { break }
        }
        return jobs
    }

    /// Reads one of the requester's jobs.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    ///   - requester: The authenticated user asking.
    /// - Returns: The job.
    /// - Throws: ``ExportError/Code/notFound`` when there is no such job or it is someone else's.
    public func status(of id: JobID, requester: UserID) async throws -> ExportJob {
        guard let job = try await jobStore.get(id), job.owner == requester else { throw Self.notFound(id) }
        return job
    }

    /// Cancels one of the requester's jobs: at once when it is not running, at the worker's next
    /// heartbeat when it is.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    ///   - requester: The authenticated user asking.
    /// - Returns: The job after the request and what happened.
    /// - Throws: ``ExportError/Code/notFound`` for an unknown or foreign job;
    ///   ``ExportError/Code/illegalTransition`` when it already succeeded or failed.
    public func cancel(_ id: JobID, requester: UserID) async throws -> CancelOutcome {
        var action = JobLifecycle.CancelAction.alreadyCancelled
        let retention = settings.retention
        let now = clock.now()
        let stored = try await jobStore.modify(id) { job throws(ExportError) in
            guard job.owner == requester else { throw Self.notFound(id) }
            action = try job.lifecycle.requestCancel()
            if action == .alreadyCancelled { return false }
            job.stamp(now: now, retention: action == .cancelled ? retention : nil)
            return true
        }
        guard let stored else { throw Self.notFound(id) }
        if action == .cancelled { observer.observe(.cancelled(id)) }
        return CancelOutcome(job: stored, action: action)
    }

    /// Runs a failed export again, with a fresh attempt budget (a job that failed for an environmental
    /// fault that outlasted its budget, such as a disk that stayed full, is worth retrying once fixed).
    /// Its outcome is e-mailed again, once. An expired failed job cannot be retried.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    ///   - requester: The authenticated user asking (the owner).
    /// - Returns: The job, queued again.
    /// - Throws: ``ExportError/Code/notFound`` for an unknown or foreign job;
    ///   ``ExportError/Code/illegalTransition`` unless it failed.
    @discardableResult
    public func retry(_ id: JobID, requester: UserID) async throws -> ExportJob {
        let stored = try await Self.retryFailed(id, ports: ports) { $0.owner == requester }
        observer.observe(.requeued(id, state: .failed))
        return stored
    }

    /// The retry of ``retry(_:requester:)`` and of ``ExportAdministration/retry(_:by:)``: the lifecycle's
    /// `retryFailed()` (a fresh budget, the outcome told again), the failure and file cleared, then
    /// the message queued. `permitted` decides who may retry the job; a job it refuses is not found.
    static func retryFailed(_ id: JobID, ports: ExportPorts, permitted: @Sendable (ExportJob) -> Bool) async throws -> ExportJob {
        let now = ports.clock.now()
        let stored = try await ports.jobStore.modify(id) { job throws(ExportError) in
            guard permitted(job) else { throw Self.notFound(id) }
            guard job.expiredAt == nil else { throw ExportError(.illegalTransition, "export \(id) has expired and can no longer be retried") }
            try job.lifecycle.retryFailed()
            job.failure = nil
            job.notificationFailure = nil
            job.expiresAt = nil
            job.rowsWritten = 0
            job.stamp(now: now, retention: nil)
            return true
        }
        guard let stored else { throw Self.notFound(id) }
        // A crash before this enqueue leaves a queued job without a message: the Reconciler queues it.
        try await ports.queue.enqueue(QueueMessage(jobID: id))
        return stored
    }

    /// Lists the requester's jobs, newest first.
    ///
    /// - Parameters:
    ///   - requester: The authenticated user asking.
    ///   - cursor: Where the previous page ended, or `nil`.
    ///   - limit: The most jobs per page (1 to 100).
    /// - Returns: The page.
    /// - Throws: A port's error.
    public func list(requester: UserID, after cursor: PageCursor? = nil, limit: Int = 20) async throws -> Page<ExportJob> {
        try await jobStore.list(owner: requester, after: cursor, limit: min(100, max(1, limit)))
    }

    /// Mints a fresh short-lived download link for one of the requester's finished exports, so
    /// e-mails can carry a stable URL and every click gets a new link.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    ///   - requester: The authenticated user asking.
    ///   - expiresIn: How long the link works; 5 minutes by default.
    /// - Returns: The link.
    /// - Throws: ``ExportError/Code/notFound`` for an unknown or foreign job, one without a file, or an
    ///   expired one (``ExportJob/expiredAt``; hosts answer 410 for a job they can still read).
    public func downloadLink(for id: JobID, requester: UserID, expiresIn: Duration = .seconds(300)) async throws -> DownloadLink {
        let job = try await status(of: id, requester: requester)
        guard job.state == .succeeded, let result = job.result else {
            throw ExportError(.notFound, "export \(id) has no file (it is \(job.state.rawValue))")
        }
        if job.expiredAt != nil {
            throw ExportError(.notFound, "export \(id) has expired; its file was deleted")
        }
        if let expiresAt = job.expiresAt, expiresAt <= clock.now() {
            throw ExportError(.notFound, "export \(id) has expired")
        }
        return try await blobStore.downloadLink(for: result.blobKey, filename: Self.filename(for: job), expiresIn: expiresIn)
    }

    /// The file name a job's download is saved as, such as `memberships-2026-01-31.csv`, or for a time
    /// range `memberships-2026-01-01_2026-02-01.csv` (the end exclusive).
    ///
    /// - Parameters:
    ///   - job: The job.
    /// - Returns: The file name.
    public static func filename(for job: ExportJob) -> String {
        if let range = job.options.range { return "memberships-\(range.fileLabel).\(job.options.format.fileExtension)" }
        return "memberships-\((RFC3339.string(job.createdAt) ?? "export").prefix(10)).\(job.options.format.fileExtension)"
    }

    /// Checks a requested format and column list as ``request(_:)`` does, recording nothing: lets a
    /// host (or `ExportHTTPAPI`) answer bad input before it looks anything else up.
    ///
    /// - Parameters:
    ///   - requestedFormat: A format identifier, or `nil` for CSV.
    ///   - requestedColumns: Column names, or `nil` for ``Configuration/defaultColumns``.
    /// - Returns: The resolved options.
    /// - Throws: ``ExportError/Code/unsupportedFormat`` or ``ExportError/Code/unknownColumn``.
    public func options(format requestedFormat: String?, columns requestedColumns: [String]?) throws(ExportError) -> ExportOptions {
        let format: ExportFormat
        if let identifier = requestedFormat {
            guard let known = ExportFormat(identifier: identifier), known.isSupported else {
                let supported = ExportFormat.all.filter(\.isSupported).map(\.identifier).joined(separator: ", ")
                throw ExportError(.unsupportedFormat, "format \(String(reflecting: String(identifier.prefix(40)))) is not supported; use one of: \(supported)")
            }
            format = known
        } else {
            format = .csv
        }
        guard let names = requestedColumns else { return ExportOptions(format: format, columns: configuration.defaultColumns) }
        guard !names.isEmpty else { throw ExportError(.unknownColumn, "columns must name at least one column") }
        var seen = Set<String>()
        let columns = try names.map { name throws(ExportError) -> ExportColumn in
            let column = ExportColumn(named: name)
            if case .attribute = column.source, !configuration.attributeColumns.contains(name) {
                throw ExportError(.unknownColumn, "unknown column \(String(reflecting: String(name.prefix(64))))")
            }
            guard seen.insert(name).inserted else {
                throw ExportError(.unknownColumn, "column \(String(reflecting: String(name.prefix(64)))) is listed twice")
            }
            return column
        }
        return ExportOptions(format: format, columns: columns)
    }

    static func notFound(_ id: JobID) -> ExportError {
        ExportError(.notFound, "no export \(id)")
    }
}
