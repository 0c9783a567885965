import Foundation
import Synchronization

/// A worker's cached view of the shared pause switch: read from the ``WorkerControlStore`` at most
/// every `interval`, so many workers do not hammer the store. A failed read keeps the last known
/// answer (and is reported), so a store that is briefly down neither pauses nor unpauses anyone.
final class PauseGate: Sendable {
    private struct Cache {
        var checkedAt: Date?
        var paused = false
    }

    private let store: (any WorkerControlStore)?
    private let interval: Duration
    private let cache = Mutex(Cache())

    init(store: (any WorkerControlStore)?, interval: Duration) {
        self.store = store
        self.interval = interval
    }

    /// Whether the worker should receive nothing now.
    ///
    /// - Parameters:
    ///   - context: The worker's context (clock and observer).
    ///   - fresh: Read the store whatever the cache's age.
    func isPaused(_ context: WorkerContext, fresh: Bool = false) async -> Bool {
        guard let store else { return false }
        let now = context.clock.now()
        let cached = cache.withLock { cache -> Bool? in
            guard !fresh, let checkedAt = cache.checkedAt, now < checkedAt.adding(interval), now >= checkedAt else { return nil }
            return cache.paused
        }
        if let cached { return cached }
        let read: Bool?
        do {
            read = try await store.workerControl().paused
        } catch {
            context.observer.observe(.fault(.workerControlFailed, error))
            read = nil
        }
        let (paused, changed) = cache.withLock { cache -> (Bool, Bool) in
            cache.checkedAt = now
            guard let read else { return (cache.paused, false) }
            defer { cache.paused = read }
            return (read, read != cache.paused)
        }
        if changed { context.observer.observe(ExportEvent(paused ? .workerPaused : .workerResumed)) }
        return paused
    }
}
