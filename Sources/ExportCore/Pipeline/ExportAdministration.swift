import Foundation

/// The operator side: jobs across owners, dead letters and the workers' pause switch.
///
/// Kept apart from ``ExportService`` (the user side, where every call is scoped to its requester) so a
/// host mounts it behind its own authentication; every call takes the ``OperatorID`` that asked and
/// emits an `operator.*` ``ExportEvent`` carrying it (``ExportEvent/Name/operatorActionFailed`` when the
/// action was refused or failed), which is the audit trail of operator actions.
///
/// ```swift
/// let admin = try ExportAdministration(ports: backend.ports)
/// let stuck = try await admin.jobs(matching: JobFilter(states: [.failed]), limit: 50, by: "alice")
/// try await admin.retry(stuck.items[0].id, by: "alice")
/// try await admin.pauseWorkers(by: "alice", reason: "database maintenance")
/// ```
///
/// What a backend cannot do is said with ``ExportError/Code/unsupported``: listing across owners on a
/// job store without ``JobStore/jobs(matching:after:limit:)``, pausing without
/// ``ExportPorts/workerControl``.
public struct ExportAdministration: Sendable {
    let ports: ExportPorts
    /// How many dead letters a lookup by id or by job reads at most (``Queue/deadLetters(limit:)`` lists
    /// oldest first and has no lookup by id).
    public let deadLetterScanLimit: Int

    /// Creates the operator surface on a backend's ports.
    ///
    /// - Parameters:
    ///   - ports: The same ports the service and the workers use.
    ///   - deadLetterScanLimit: How many dead letters a lookup reads at most; 1,000 by default.
    /// - Throws: ``ExportError/Code/configuration`` when `deadLetterScanLimit` is not positive.
    public init(ports: ExportPorts, deadLetterScanLimit: Int = 1000) throws(ExportError) {
        guard deadLetterScanLimit >= 1 else {
            throw ExportError(.configuration, "deadLetterScanLimit must be at least 1, not \(deadLetterScanLimit)")
        }
        self.ports = ports
        self.deadLetterScanLimit = deadLetterScanLimit
    }

    /// The clock every part reads (from the ports).
    public var clock: any ExportClock { ports.clock }

    /// Whether the workers' pause switch can be read and set here (``ExportPorts/workerControl`` is set).
    public var offersWorkerControl: Bool { ports.workerControl != nil }

    // MARK: Jobs

    /// Lists jobs across owners, oldest first.
    ///
    /// - Parameters:
    ///   - filter: Which states and ages; every job by default.
    ///   - cursor: Where the previous page ended, or `nil`.
    ///   - limit: The most jobs per page, clamped to 1…100.
    ///   - operatorID: Who asks.
    /// - Returns: The page.
    /// - Throws: ``ExportError/Code/invalidRequest`` for a bad cursor; ``ExportError/Code/unsupported``
    ///   from a job store that cannot list across owners; a port's error.
    public func jobs(
        matching filter: JobFilter = JobFilter(), after cursor: PageCursor? = nil, limit: Int = 20, by operatorID: OperatorID
    ) async throws -> Page<ExportJob> {
        try await perform(.operatorJobsListed, by: operatorID) {
            let page = try await ports.jobStore.jobs(matching: filter, after: cursor, limit: min(100, max(1, limit)))
            return (page, { $0.rows = Int64(page.items.count) })
        }
    }

    /// Reads one job, whoever owns it, with its dead letters.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    ///   - operatorID: Who asks.
    /// - Returns: The job and its dead letters.
    /// - Throws: ``ExportError/Code/notFound`` for an unknown job; a port's error.
    public func inspect(_ id: JobID, by operatorID: OperatorID) async throws -> JobInspection {
        try await perform(.operatorJobInspected, by: operatorID, jobID: id) {
            guard let job = try await ports.jobStore.get(id) else { throw ExportService.notFound(id) }
            // A queue whose dead letters cannot be read now still lets the job be inspected; the fault is reported.
            let letters: [DeadLetter]?
            do {
                letters = try await ports.queue.deadLetters(limit: deadLetterScanLimit).filter { $0.message.jobID == id }
            } catch {
                ports.observer.observe(.fault(.operatorDeadLettersUnreadable, error, jobID: id))
                letters = nil
            }
            return (JobInspection(job: job, deadLetters: letters), { $0.owner = job.owner })
        }
    }

    /// Runs a failed job again as a new attempt with a fresh budget, as its owner's
    /// ``ExportService/retry(_:requester:)`` does; its outcome is e-mailed again, once.
    ///
    /// - Parameters:
    ///   - id: The job's id.
    ///   - operatorID: Who asks.
    /// - Returns: The job, queued again.
    /// - Throws: ``ExportError/Code/notFound`` for an unknown job; ``ExportError/Code/illegalTransition``
    ///   unless it failed (or when it expired); a port's error.
    @discardableResult
    public func retry(_ id: JobID, by operatorID: OperatorID) async throws -> ExportJob {
        try await perform(.operatorJobRetried, by: operatorID, jobID: id) {
            let job = try await ExportService.retryFailed(id, ports: ports) { _ in true }
            return (job, { $0.owner = job.owner; $0.state = job.state })
        }
    }

    // MARK: Dead letters

    /// Lists dead letters, oldest first.
    ///
    /// - Parameters:
    ///   - limit: The most to return, clamped to 1…``deadLetterScanLimit``.
    ///   - operatorID: Who asks.
    /// - Returns: The dead letters.
    /// - Throws: The queue's error.
    public func deadLetters(limit: Int = 100, by operatorID: OperatorID) async throws -> [DeadLetter] {
        try await perform(.operatorDeadLettersListed, by: operatorID) {
            let letters = try await ports.queue.deadLetters(limit: min(deadLetterScanLimit, max(1, limit)))
            return (letters, { $0.rows = Int64(letters.count) })
        }
    }

    /// Reads one dead letter.
    ///
    /// - Parameters:
    ///   - id: The dead letter's message id.
    ///   - operatorID: Who asks.
    /// - Returns: The dead letter.
    /// - Throws: ``ExportError/Code/notFound`` when it is not among the first ``deadLetterScanLimit``
    ///   dead letters; the queue's error.
    public func deadLetter(_ id: MessageID, by operatorID: OperatorID) async throws -> DeadLetter {
        try await perform(.operatorDeadLetterInspected, by: operatorID) {
            let letter = try await findDeadLetter(id)
            return (letter, { $0.jobID = letter.message.jobID; $0.message = "dead letter \(id)" })
        }
    }

    /// Moves one dead letter back into the queue as a fresh message. A letter whose job has ended
    /// since is harmless: the worker that receives it finds the job finished and acknowledges it.
    ///
    /// - Parameters:
    ///   - id: The dead letter's message id.
    ///   - operatorID: Who asks.
    /// - Returns: The dead letter as it was.
    /// - Throws: ``ExportError/Code/notFound`` for an unknown dead letter; the queue's error.
    @discardableResult
    public func redrive(_ id: MessageID, by operatorID: OperatorID) async throws -> DeadLetter {
        try await perform(.operatorDeadLetterRedriven, by: operatorID) {
            let letter = try await findDeadLetter(id)
            guard try await ports.queue.redrive([id]) > 0 else {
                throw ExportError(.notFound, "no dead letter \(id) (it was redriven meanwhile)")
            }
            return (letter, { $0.jobID = letter.message.jobID; $0.message = "dead letter \(id)" })
        }
    }

    // MARK: Workers

    /// Reads the workers' pause switch.
    ///
    /// - Parameters:
    ///   - operatorID: Who asks.
    /// - Returns: The switch.
    /// - Throws: ``ExportError/Code/unsupported`` without ``ExportPorts/workerControl``; the store's error.
    public func workerControl(by operatorID: OperatorID) async throws -> WorkerControl {
        try await perform(.operatorWorkersInspected, by: operatorID) {
            (try await controlStore().workerControl(), { _ in })
        }
    }

    /// Pauses every worker that shares the store: each finishes what it runs and receives nothing new,
    /// from its next check of the switch (at most ``ExportWorker/Configuration/pauseCheckInterval``).
    ///
    /// - Parameters:
    ///   - operatorID: Who asks.
    ///   - reason: Why, for the record; `nil` for none.
    /// - Returns: The stored switch.
    /// - Throws: ``ExportError/Code/unsupported`` without ``ExportPorts/workerControl``; the store's error.
    @discardableResult
    public func pauseWorkers(by operatorID: OperatorID, reason: String? = nil) async throws -> WorkerControl {
        try await setPaused(true, by: operatorID, reason: reason)
    }

    /// Resumes every worker that shares the store, from its next check of the switch.
    ///
    /// - Parameters:
    ///   - operatorID: Who asks.
    ///   - reason: Why, for the record; `nil` for none.
    /// - Returns: The stored switch.
    /// - Throws: ``ExportError/Code/unsupported`` without ``ExportPorts/workerControl``; the store's error.
    @discardableResult
    public func resumeWorkers(by operatorID: OperatorID, reason: String? = nil) async throws -> WorkerControl {
        try await setPaused(false, by: operatorID, reason: reason)
    }

    // MARK: Helpers

    private func setPaused(_ paused: Bool, by operatorID: OperatorID, reason: String?) async throws -> WorkerControl {
        try await perform(paused ? .operatorWorkersPaused : .operatorWorkersResumed, by: operatorID) {
            let control = WorkerControl(paused: paused, changedAt: ports.clock.now(), changedBy: operatorID, reason: reason)
            try await controlStore().setWorkerControl(control)
            return (control, { $0.message = reason })
        }
    }

    private func controlStore() throws(ExportError) -> any WorkerControlStore {
        guard let store = ports.workerControl else {
            throw ExportError(.unsupported, "ports.workerControl is nil: this backend cannot pause workers; give the ports a WorkerControlStore")
        }
        return store
    }

    private func findDeadLetter(_ id: MessageID) async throws -> DeadLetter {
        guard let letter = try await ports.queue.deadLetters(limit: deadLetterScanLimit).first(where: { $0.id == id }) else {
            throw ExportError(.notFound, "no dead letter \(id)")
        }
        return letter
    }

    /// Runs an action and emits its event (or ``ExportEvent/Name/operatorActionFailed``) with the operator.
    private func perform<T>(
        _ name: ExportEvent.Name, by operatorID: OperatorID, jobID: JobID? = nil,
        _ body: () async throws -> (T, (inout ExportEvent) -> Void)
    ) async throws -> T {
        do {
            let (value, fill) = try await body()
            var event = ExportEvent.operatorAction(name, by: operatorID, jobID: jobID)
            fill(&event)
            ports.observer.observe(event)
            return value
        } catch {
            ports.observer.observe(.operatorActionFailed(name, by: operatorID, error: error, jobID: jobID))
            throw error
        }
    }
}

/// One job as an operator sees it: the record (attempts, failures, notification state) and the dead
/// letters of its messages.
public struct JobInspection: Hashable, Sendable {
    /// The job.
    public var job: ExportJob
    /// The job's dead letters among the first ``ExportAdministration/deadLetterScanLimit``, or `nil`
    /// when the queue's dead letters could not be read.
    public var deadLetters: [DeadLetter]?

    /// Creates an inspection.
    ///
    /// - Parameters:
    ///   - job: The job.
    ///   - deadLetters: Its dead letters, or `nil` when unknown.
    public init(job: ExportJob, deadLetters: [DeadLetter]?) {
        self.job = job
        self.deadLetters = deadLetters
    }
}
