import ExportCore
import Foundation

/// The in-memory fakes under one value, on one `ManualClock` by default: the quickest start, and the
/// test kit for a host's own tests.
///
/// ```swift
/// let backend = InMemoryBackend()
/// let service = try ExportService(ports: backend.ports)
/// let worker = try ExportWorker(ports: backend.ports, source: InMemoryMembershipSource(memberships))
/// ```
public struct InMemoryBackend: Sendable {
    /// Jobs.
    public let jobStore: InMemoryJobStore
    /// The queue.
    public let queue: InMemoryQueue
    /// Files.
    public let blobStore: InMemoryBlobStore
    /// Sent notifications, to inspect.
    public let notifier: InMemoryNotifier
    /// Schedules.
    public let scheduleStore: InMemoryScheduleStore
    /// The workers' pause switch.
    public let workerControl: InMemoryWorkerControlStore
    /// The clock of every fake.
    public let clock: any ExportClock
    /// The ports, for `ExportService`, `ExportWorker` and `Reconciler`.
    public let ports: ExportPorts

    /// Creates the fakes.
    ///
    /// - Parameters:
    ///   - clock: The clock of every fake; the system clock by default (pass a `ManualClock` in tests).
    ///   - observer: Receives every event; none by default.
    ///   - settings: The shared settings.
    public init(clock: any ExportClock = SystemClock(), observer: any ExportObserver = NoObserver(), settings: ExportSettings = ExportSettings()) {
        self.clock = clock
        jobStore = InMemoryJobStore()
        queue = InMemoryQueue(clock: clock)
        blobStore = InMemoryBlobStore(clock: clock)
        notifier = InMemoryNotifier()
        scheduleStore = InMemoryScheduleStore()
        workerControl = InMemoryWorkerControlStore()
        ports = ExportPorts(
            jobStore: jobStore, queue: queue, blobStore: blobStore, notifier: notifier, clock: clock, observer: observer, settings: settings,
            scheduleStore: scheduleStore, workerControl: workerControl)
    }
}
