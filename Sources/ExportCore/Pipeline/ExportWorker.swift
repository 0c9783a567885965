import Foundation
import Synchronization

/// Runs exports: receives deliveries under a lease, claims each job by compare-and-swap, exports it,
/// records the result, notifies the user and acknowledges the message.
///
/// - **Bounded concurrency**: at most ``Configuration/concurrency`` exports at once.
/// - **Heartbeats**: beside each running export a timer on the worker's clock renews its queue lease
///   and its job lease every ``Configuration/heartbeatInterval``, however long one page takes, and
///   stops the export when it finds a cancel request or that another worker took the job over.
/// - **Retries**: a failed attempt is retried after the ``RetryPolicy``'s delay (the message is released
///   with that delay), or the job fails, the user gets one "failed" message and the message is
///   dead-lettered. Failures outside the export (the notifier, the job store, the queue) are retried
///   too, but at most ``Configuration/maxDeliveries`` deliveries, and never when not retryable: then the
///   message is dead-lettered and a job that has not ended is marked failed.
/// - **One file per job**: each attempt writes its own blob; files of attempts that did not succeed
///   are deleted, including a stalled worker's that finished after losing its lease.
/// - **Crash safety**: a worker that dies leaves a job whose lease runs out; the message comes back and
///   another worker takes the job over. A duplicate delivery of a finished job only completes what is
///   missing (the notification, the acknowledgement), never the export or a second e-mail.
/// - **Graceful shutdown**: ``shutdown()`` stops receiving, lets running exports finish within
///   ``Configuration/shutdownGracePeriod``, then hands the rest back to the queue.
///
/// ```swift
/// let worker = ExportWorker(jobStore: jobs, queue: queue, blobStore: blobs, notifier: mail, source: db)
/// let task = Task { await worker.run() }
/// // …on SIGTERM:
/// await worker.shutdown()
/// await task.value
/// ```
public final class ExportWorker: Sendable {
    let jobStore: any JobStore
    let queue: any Queue
    let blobStore: any BlobStore
    let notifier: any Notifier
    let clock: any ExportClock
    let observer: any ExportObserver
    let runner: ExportRunner
    let random: SharedRandom
    /// The configuration.
    public let configuration: Configuration

    private struct State {
        var stopping = false
        var running = false
        var active = 0
        var poll: Task<[Delivery], Never>?
    }

    private let state = Mutex(State())
    private let slotFreed: AsyncStream<Void>.Continuation
    private let slotEvents: AsyncStream<Void>

    /// Creates a worker.
    ///
    /// - Parameters:
    ///   - jobStore: Where jobs are recorded.
    ///   - queue: Where job messages come from.
    ///   - blobStore: Where files go.
    ///   - notifier: How users are told.
    ///   - source: Where memberships come from.
    ///   - clock: The clock; the system clock by default.
    ///   - configuration: Concurrency, leases, retries, links.
    ///   - observer: Receives ``ExportEvent``s.
    public init(
        jobStore: any JobStore,
        queue: any Queue,
        blobStore: any BlobStore,
        notifier: any Notifier,
        source: any MembershipSource,
        clock: any ExportClock = SystemClock(),
        configuration: Configuration = Configuration(),
        observer: any ExportObserver = NoObserver()
    ) {
        self.jobStore = jobStore
        self.queue = queue
        self.blobStore = blobStore
        self.notifier = notifier
        self.clock = clock
        self.observer = observer
        self.configuration = configuration
        self.runner = ExportRunner(
            source: source,
            blobStore: blobStore,
            pageSize: configuration.pageSize,
            chunkSize: configuration.chunkSize,
            csvOptions: configuration.csvOptions,
            compressionLevel: configuration.compressionLevel
        )
        self.random = SharedRandom(seed: configuration.randomSeed)
        (slotEvents, slotFreed) = AsyncStream<Void>.makeStream()
    }

    /// Receives and runs exports until ``shutdown()`` is called or the task is cancelled.
    ///
    /// Cancelling the calling task stops at once: running exports hand their jobs back to the queue.
    /// A worker runs one loop: a second call while one runs (or after it ended) returns at once without
    /// receiving anything. Create one worker per loop to run several.
    public func run() async {
        let first = state.withLock { state -> Bool in
            defer { state.running = true }
            return !state.running
        }
        guard first else { return }
        var freed = slotEvents.makeAsyncIterator()
        await withDiscardingTaskGroup { group in
            while !isStopping, !Task.isCancelled {
                let free = configuration.concurrency - state.withLock { $0.active }
                guard free > 0 else {
                    _ = await freed.next()
                    continue
                }
                for delivery in await poll(max: min(free, 10)) {
                    state.withLock { $0.active += 1 }
                    group.addTask {
                        await self.process(delivery)
                        self.state.withLock { $0.active -= 1 }
                        self.slotFreed.yield()
                    }
                }
            }
            await drain(group: &group, freed: &freed)
        }
    }

    /// Stops receiving; running exports get the grace period to finish, then are handed back.
    /// ``run()`` returns once every export has finished or been handed back.
    public func shutdown() {
        let poll = state.withLock { state in
            state.stopping = true
            return state.poll
        }
        poll?.cancel()
        slotFreed.yield()
    }

    /// Receives once and runs what arrived, for tests and for hosts that drive workers themselves
    /// (a cron job, a serverless handler).
    ///
    /// - Returns: How many deliveries were handled.
    @discardableResult
    public func processAvailable() async -> Int {
        let deliveries = (try? await queue.receive(
            max: min(configuration.concurrency, 10), visibilityTimeout: configuration.visibilityTimeout, waitTime: .zero)) ?? []
        await withDiscardingTaskGroup { group in
            for delivery in deliveries { group.addTask { await self.process(delivery) } }
        }
        return deliveries.count
    }

    private var isStopping: Bool { state.withLock { $0.stopping } }

    private func poll(max: Int) async -> [Delivery] {
        let configuration = configuration
        let task = Task { [queue, clock] () -> [Delivery] in
            do {
                let deliveries = try await queue.receive(
                    max: max, visibilityTimeout: configuration.visibilityTimeout, waitTime: configuration.receiveWaitTime)
                if deliveries.isEmpty, configuration.receiveWaitTime == .zero {
                    try? await clock.sleep(for: configuration.idleDelay)
                }
                return deliveries
            } catch {
                try? await clock.sleep(for: configuration.idleDelay)
                return []
            }
        }
        let registered = state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.poll = task
            return true
        }
        if !registered { task.cancel() }
        let deliveries = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        state.withLock { $0.poll = nil }
        // A receive cancelled by shutdown may still have leased messages: give them back at once.
        if isStopping || Task.isCancelled {
            for delivery in deliveries { try? await queue.release(delivery.receipt, delay: .zero) }
            return []
        }
        return deliveries
    }

    private func drain(group: inout DiscardingTaskGroup, freed: inout AsyncStream<Void>.Iterator) async {
        guard state.withLock({ $0.active }) > 0 else { return }
        let grace = configuration.shutdownGracePeriod
        let expired = Mutex(false)
        group.addTask { [clock, slotFreed] in
            try? await clock.sleep(for: grace)
            expired.withLock { $0 = true }
            slotFreed.yield()
        }
        while state.withLock({ $0.active }) > 0, !expired.withLock({ $0 }), !Task.isCancelled {
            _ = await freed.next()
        }
        group.cancelAll()
    }
}
