import Foundation
import Synchronization

/// Runs exports: receives deliveries under a lease, claims each job by compare-and-swap, exports it,
/// records the result, notifies the user and acknowledges the message.
///
/// - **Bounded concurrency**: at most ``Configuration/concurrency`` exports at once.
/// - **Heartbeats**: beside each running export a timer on the clock renews its queue lease and its
///   job lease every ``Configuration/resolvedHeartbeatInterval``, however long one page takes, and
///   stops the export when it finds a cancel request or that another worker took the job over.
/// - **Retries**: a failed attempt is retried after the ``RetryPolicy``'s delay, or the job fails, the
///   user gets one "failed" message and the message is dead-lettered. Failures outside the export (the
///   notifier, the job store, the queue) are retried too, at most
///   ``Configuration/resolvedMaxDeliveries`` deliveries.
/// - **Diagnostics**: every error the worker catches and does not rethrow reaches the observer with its
///   code (``ExportEvent/Name/receiveFailed``, ``ExportEvent/Name/heartbeatMissed``,
///   ``ExportEvent/Name/cleanupFailed``…). A receive that fails with a fault that cannot heal by
///   waiting (unauthorized, a missing queue, a configuration error) stops the worker: ``run()`` throws it.
/// - **Pause**: before each receive the worker reads the shared ``WorkerControl`` (at most every
///   ``Configuration/pauseCheckInterval``); while it is paused the worker receives nothing and its
///   running exports finish (``ExportAdministration/pauseWorkers(by:reason:)``).
/// - **Lifecycle**: ``run()`` fits swift-service-lifecycle's `Service` (see
///   ``run(gracefulShutdown:)``): graceful shutdown lets running exports finish within
///   ``Configuration/shutdownGracePeriod``, then hands the rest back; cancelling the task hands back at once.
///
/// ```swift
/// let worker = try ExportWorker(ports: backend.ports, source: database)
/// let task = Task { try await worker.run() }
/// // …on SIGTERM:
/// worker.shutdown()
/// try await task.value
/// ```
public final class ExportWorker: Sendable {
    let context: WorkerContext
    /// The configuration.
    public var configuration: Configuration { context.configuration }

    /// The loop's state. Moves only forward: `idle` → `receiving` → `draining` → `stopped`.
    enum LoopState: Equatable, Sendable {
        /// Not started.
        case idle
        /// Receiving and running deliveries.
        case receiving
        /// No more receiving; running exports get the grace period, then are handed back.
        case draining
        /// The loop has ended.
        case stopped
    }

    private struct State {
        var loop = LoopState.idle
        var stopRequested = false
        var active = 0
        var poll: Task<[Delivery], any Error>?
    }

    private let state = Mutex(State())
    let pauseGate: PauseGate
    private let slotFreed: AsyncStream<Void>.Continuation
    private let slotEvents: AsyncStream<Void>

    /// Creates a worker.
    ///
    /// - Parameters:
    ///   - ports: The backend's ports and the shared settings.
    ///   - source: Where memberships come from.
    ///   - configuration: Concurrency, leases, retries.
    /// - Throws: ``ExportError/Code/configuration`` when the configuration or the settings cannot work
    ///   (see ``Configuration/validate()`` and ``ExportSettings/validate(against:)``), for example a link
    ///   lifetime longer than the blob store can sign.
    public init(ports: ExportPorts, source: any MembershipSource, configuration: Configuration = Configuration()) throws(ExportError) {
        try configuration.validate()
        try ports.settings.validate(against: ports.blobStore)
        context = WorkerContext(
            ports: ports,
            configuration: configuration,
            runner: ExportRunner(
                source: source, blobStore: ports.blobStore, pageSize: configuration.pageSize, chunkSize: configuration.chunkSize,
                csvOptions: configuration.csvOptions, compressionLevel: configuration.compressionLevel),
            random: SharedRandom(seed: configuration.randomSeed), heartbeatTimer: SharedTimer(clock: ports.clock))
        (slotEvents, slotFreed) = AsyncStream<Void>.makeStream()
        pauseGate = PauseGate(store: ports.workerControl, interval: configuration.pauseCheckInterval)
    }

    /// Receives and runs exports until ``shutdown()`` is called, the task is cancelled, or receiving
    /// meets a fault that cannot heal by waiting.
    ///
    /// Cancelling the calling task stops at once: running exports hand their jobs back to the queue.
    /// A worker runs one loop: a second call while one runs (or after it ended) returns at once.
    ///
    /// - Throws: The receive error that stopped the worker (unauthorized, a missing queue, a
    ///   configuration error), after running exports finished or were handed back. It has been reported
    ///   to the observer as ``ExportEvent/Name/stopped``.
    public func run() async throws {
        let first = state.withLock { state -> Bool in
            guard state.loop == .idle else { return false }
            state.loop = .receiving
            return true
        }
        guard first else { return }
        var freed = slotEvents.makeAsyncIterator()
        var fatal: (any Error)?
        await withDiscardingTaskGroup { group in
            var failures = 0
            while !stopRequested, !Task.isCancelled {
                let free = configuration.concurrency - state.withLock { $0.active }
                guard free > 0 else {
                    _ = await freed.next()
                    continue
                }
                let deliveries: [Delivery]
                do {
                    deliveries = try await poll(max: min(free, 10))
                    failures = 0
                } catch {
                    if Task.isCancelled || stopRequested { break }
                    failures += 1
                    context.observer.observe(.fault(.receiveFailed, error))
                    if Self.cannotHealByWaiting(error) {
                        fatal = error
                        break
                    }
                    // A sleep only throws when the task is cancelled, which the loop condition sees next.
                    try? await context.clock.sleep(for: receiveBackoff(afterFailures: failures))
                    continue
                }
                for delivery in deliveries {
                    state.withLock { $0.active += 1 }
                    group.addTask {
                        await ExportAttempt(context: self.context, delivery: delivery).process()
                        self.state.withLock { $0.active -= 1 }
                        self.slotFreed.yield()
                    }
                }
            }
            state.withLock { $0.loop = .draining }
            await drain(group: &group, freed: &freed)
        }
        state.withLock { $0.loop = .stopped }
        if let fatal {
            context.observer.observe(.fault(.stopped, fatal))
            throw fatal
        }
        context.observer.observe(ExportEvent(.stopped))
    }

    /// Runs like ``run()``, and shuts down gracefully when `gracefulShutdown` returns: the shape of a
    /// swift-service-lifecycle `Service`, whose `gracefulShutdown()` suspends until the service group
    /// shuts down. The whole adapter in a host:
    ///
    /// ```swift
    /// struct ExportWorkerService: Service {
    ///     let worker: ExportWorker
    ///     func run() async throws { try await worker.run(gracefulShutdown: { try? await gracefulShutdown() }) }
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - gracefulShutdown: Returns when the worker should stop taking work.
    /// - Throws: As ``run()``.
    public func run(gracefulShutdown: @escaping @Sendable () async -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await gracefulShutdown()
                self.shutdown()
            }
            defer { group.cancelAll() }
            try await run()
        }
    }

    /// Stops receiving; running exports get the grace period to finish, then are handed back.
    /// ``run()`` returns once every export has finished or been handed back.
    public func shutdown() {
        let poll = state.withLock { state in
            state.stopRequested = true
            return state.poll
        }
        poll?.cancel()
        slotFreed.yield()
    }

    /// Receives once and runs what arrived (nothing while workers are paused), for tests and for hosts that drive workers themselves
    /// (a cron job, a serverless handler).
    ///
    /// - Returns: How many deliveries were handled.
    /// - Throws: The queue's error when receiving fails (it also reaches the observer).
    @discardableResult
    public func processAvailable() async throws -> Int {
        guard await !pauseGate.isPaused(context, fresh: true) else { return 0 }
        let deliveries: [Delivery]
        do {
            deliveries = try await context.queue.receive(
                max: min(configuration.concurrency, 10), visibilityTimeout: configuration.visibilityTimeout, waitTime: .zero)
        } catch {
            context.observer.observe(.fault(.receiveFailed, error))
            throw error
        }
        await withDiscardingTaskGroup { group in
            for delivery in deliveries { group.addTask { await ExportAttempt(context: self.context, delivery: delivery).process() } }
        }
        return deliveries.count
    }

    /// Whether an error of a port is one that waiting does not fix: credentials rejected, a queue, table
    /// or bucket that does not exist, a configuration error.
    static func cannotHealByWaiting(_ error: any Error) -> Bool {
        guard let error = error as? ExportError, !error.isRetryable else { return false }
        return error.code == .unauthorized || error.code == .notFound || error.code == .configuration
    }

    /// The pause after `failures` failed receives in a row: the idle delay, doubled per failure, capped.
    func receiveBackoff(afterFailures failures: Int) -> Duration {
        var delay = max(configuration.idleDelay, .milliseconds(10))
        for _ in 1..<min(max(1, failures), 20) where delay < configuration.maximumReceiveBackoff { delay *= 2 }
        return min(delay, configuration.maximumReceiveBackoff)
    }

    private var stopRequested: Bool { state.withLock { $0.stopRequested } }

    /// Receives once. An empty receive without long polling pauses for the idle delay; a receive
    /// cancelled by shutdown gives back what it leased at once.
    private func poll(max: Int) async throws -> [Delivery] {
        let configuration = configuration
        let task = Task { [context, pauseGate] () -> [Delivery] in
            if await pauseGate.isPaused(context) {
                // Paused: no receive; sleep until the next check. The sleep throws only when shutdown
                // cancels it, and then the empty answer is what the receive loop expects.
                try? await context.clock.sleep(for: configuration.pauseCheckInterval)
                return []
            }
            let deliveries = try await context.queue.receive(
                max: max, visibilityTimeout: configuration.visibilityTimeout, waitTime: configuration.receiveWaitTime)
            if deliveries.isEmpty, configuration.receiveWaitTime == .zero {
                try? await context.clock.sleep(for: configuration.idleDelay)  // cancelled: the caller sees it
            }
            return deliveries
        }
        let registered = state.withLock { state -> Bool in
            guard !state.stopRequested else { return false }
            state.poll = task
            return true
        }
        if !registered { task.cancel() }
        let result = await withTaskCancellationHandler { await task.result } onCancel: { task.cancel() }
        state.withLock { $0.poll = nil }
        if stopRequested || Task.isCancelled {
            // A receive that failed while stopping leased nothing; one that succeeded gives its messages back.
            for delivery in (try? result.get()) ?? [] {
                await context.handOff(delivery.message.jobID) { try await self.context.queue.release(delivery.receipt, delay: .zero) }
            }
            return []
        }
        return try result.get()
    }

    private func drain(group: inout DiscardingTaskGroup, freed: inout AsyncStream<Void>.Iterator) async {
        guard state.withLock({ $0.active }) > 0 else { return }
        let grace = configuration.shutdownGracePeriod
        let expired = Mutex(false)
        group.addTask { [context, slotFreed] in
            try? await context.clock.sleep(for: grace)  // throws only when cancelled: then the drain ends anyway
            expired.withLock { $0 = true }
            slotFreed.yield()
        }
        while state.withLock({ $0.active }) > 0, !expired.withLock({ $0 }), !Task.isCancelled {
            _ = await freed.next()
        }
        group.cancelAll()
    }
}
