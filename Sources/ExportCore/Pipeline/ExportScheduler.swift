import Foundation

/// Turns due schedule occurrences into export jobs. Any number of processes may run one on the same
/// stores: each occurrence becomes exactly one job, whatever crashes.
///
/// A pass (``tick()``) reads the due schedules and, for each:
/// 1. decides with the pure ``ExportSchedule/advance(now:lateness:)`` which occurrence (slot) to run;
/// 2. creates its job with the id ``ExportSchedule/occurrenceJobID(for:)`` and the unique key
///    ``ExportSchedule/occurrenceKey(for:)``. Every process derives the same id, and
///    ``JobStore/create(_:)`` is idempotent by id, so a second scheduler, or the same one after a
///    crash, gets `.existing` and queues nothing; only the creator queues the job (one message per job);
/// 3. moves the schedule on by compare-and-swap. A crash before this step repeats steps 1–2 for the
///    same slot on the next pass, which again finds the job; a lost race re-reads and finds the
///    schedule already moved on.
///
/// A creator that dies between creating and queueing leaves a queued job without a message: the
/// ``Reconciler`` queues it (guarantee 2). Runs are created without the owner's rate limit and beside
/// any export the owner asked for themselves.
public struct ExportScheduler: Sendable {
    /// How the scheduler behaves.
    public struct Configuration: Sendable {
        /// How late an occurrence may be and still run under ``CatchUpPolicy/skip``; longer than the
        /// tick interval. Five minutes by default.
        public var lateness: Duration
        /// The most schedules handled per pass.
        public var batchSize: Int

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - lateness: How late an on-time occurrence may be; 5 minutes by default.
        ///   - batchSize: Schedules per pass; 100 by default.
        public init(lateness: Duration = .seconds(300), batchSize: Int = 100) {
            self.lateness = lateness
            self.batchSize = batchSize
        }

        /// Checks that the configuration can work.
        ///
        /// - Throws: ``ExportError/Code/configuration`` naming the setting.
        public func validate() throws(ExportError) {
            guard batchSize >= 1 else { throw ExportError(.configuration, "configuration.batchSize must be at least 1, not \(batchSize)") }
            guard lateness >= .zero else { throw ExportError(.configuration, "configuration.lateness must not be negative") }
        }
    }

    /// What one pass did.
    public struct Report: Hashable, Sendable {
        /// Jobs this pass created (and queued).
        public var fired: [JobID] = []
        /// Occurrences whose job another scheduler (or an earlier, interrupted pass) had made.
        public var alreadyFired: [JobID] = []
        /// Occurrences passed over by the catch-up policy.
        public var skipped = 0
    }

    private let ports: ExportPorts
    private let schedules: any ScheduleStore
    /// The configuration.
    public let configuration: Configuration

    /// Creates a scheduler.
    ///
    /// - Parameters:
    ///   - ports: The ports; ``ExportPorts/scheduleStore`` must be set.
    ///   - configuration: Lateness and batch size.
    /// - Throws: ``ExportError/Code/configuration`` when the ports have no schedule store or the
    ///   configuration cannot work.
    public init(ports: ExportPorts, configuration: Configuration = Configuration()) throws(ExportError) {
        guard let store = ports.scheduleStore else {
            throw ExportError(.configuration, "ports.scheduleStore is nil: this backend offers no schedules; give the ports a ScheduleStore")
        }
        try configuration.validate()
        try ports.settings.validate(against: ports.blobStore)
        self.ports = ports
        self.schedules = store
        self.configuration = configuration
    }

    /// Fires every due occurrence once.
    ///
    /// - Returns: What the pass did.
    /// - Throws: A port's error (the occurrences not yet handled are handled by the next pass).
    @discardableResult
    public func tick() async throws -> Report {
        let now = ports.clock.now()
        var report = Report()
        for due in try await schedules.due(at: now, limit: configuration.batchSize) {
            try await fire(due, now: now, into: &report)
        }
        return report
    }

    private func fire(_ read: ExportSchedule, now: Date, into report: inout Report) async throws {
        var schedule = read
        guard let step = try schedule.advance(now: now, lateness: configuration.lateness) else { return }
        if let slot = step.fire {
            var options = read.options
            options.range = try read.range(for: slot)
            var job = ExportJob(
                id: read.occurrenceJobID(for: slot), owner: read.owner, recipient: read.recipient, options: options,
                createdAt: now, uniqueKey: read.occurrenceKey(for: slot))
            job.scheduledRun = ScheduledRun(scheduleID: read.id, scheduleName: read.name, slot: slot)
            switch try await ports.jobStore.create(job) {
            case .created(let created):
                try await ports.queue.enqueue(QueueMessage(jobID: created.id))
                ports.observer.observe(.scheduleFired(created.id, owner: created.owner))
                report.fired.append(created.id)
            case .existing(let existing):
                ports.observer.observe(.scheduleAlreadyFired(existing.id, owner: existing.owner))
                report.alreadyFired.append(existing.id)
            }
        }
        if step.skipped > 0 {
            ports.observer.observe(.scheduleSkipped(owner: read.owner, count: step.skipped, schedule: read.id))
            report.skipped += step.skipped
        }
        schedule.stamp(now: now)
        do {
            _ = try await schedules.update(schedule)
        } catch let error as ExportError where error.code == .versionConflict || error.code == .notFound {
            // Another scheduler moved it on (its job is the one just found), the owner changed or
            // deleted it meanwhile: the next pass decides on the fresh record.
        }
    }

    /// Runs a pass every `interval` until cancelled. A pass that fails is reported as
    /// ``ExportEvent/Name/schedulerFailed`` and tried again; a fault that cannot heal by waiting ends
    /// the loop by throwing, after it was reported.
    ///
    /// - Parameters:
    ///   - interval: The time between passes; 15 seconds by default.
    /// - Throws: The fault that cannot heal by waiting.
    public func run(every interval: Duration = .seconds(15)) async throws {
        while !Task.isCancelled {
            do {
                try await tick()
            } catch where Task.isCancelled || error is CancellationError {
                return
            } catch {
                ports.observer.observe(.fault(.schedulerFailed, error))
                if ExportWorker.cannotHealByWaiting(error) {
                    ports.observer.observe(.fault(.stopped, error))
                    throw error
                }
            }
            do { try await ports.clock.sleep(for: interval) } catch { return }
        }
    }

    /// Runs like ``run(every:)`` and returns when `gracefulShutdown` returns (a swift-service-lifecycle
    /// `Service`'s shape).
    ///
    /// - Parameters:
    ///   - interval: The time between passes.
    ///   - gracefulShutdown: Returns when the scheduler should stop.
    /// - Throws: As ``run(every:)``.
    public func run(every interval: Duration = .seconds(15), gracefulShutdown: @escaping @Sendable () async -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.run(every: interval) }
            group.addTask { await gracefulShutdown() }
            _ = try await group.next()
            group.cancelAll()
        }
    }
}
