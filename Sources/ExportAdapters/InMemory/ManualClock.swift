import ExportCore
import Foundation
import Synchronization

/// A clock that only moves when told to: for deterministic tests of leases, backoff and expiry.
///
/// ``sleep(for:)`` suspends until ``advance(by:)`` moves the clock past the sleeper's deadline, so a
/// test never waits for real time to pass.
public final class ManualClock: ExportClock {
    private struct Sleeper {
        let id: UInt64
        let deadline: Date
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    /// Creates a clock.
    ///
    /// - Parameters:
    ///   - now: The starting time; 2026-01-01T00:00:00Z by default, so outputs are reproducible.
    public init(now: Date = Date(timeIntervalSince1970: 1_767_225_600)) {
        state = Mutex(State(now: now))
    }

    /// The current time.
    ///
    /// - Returns: The clock's time.
    public func now() -> Date { state.withLock { $0.now } }

    /// The number of tasks sleeping on the clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// Waits until at least `count` tasks sleep on the clock, so a test can advance the clock knowing
    /// who will wake. Bounded: gives up after `maxYields` yields instead of hanging a broken test.
    ///
    /// - Parameters:
    ///   - count: How many sleepers to wait for.
    ///   - maxYields: How many times to yield before giving up.
    /// - Returns: Whether that many sleepers arrived.
    @discardableResult
    public func waitForSleepers(_ count: Int = 1, maxYields: Int = 1_000_000) async -> Bool {
        for _ in 0..<max(1, maxYields) {
            if sleeperCount >= count { return true }
            await Task.yield()
        }
        return sleeperCount >= count
    }

    /// Moves the clock forward and wakes every sleeper whose deadline has come.
    ///
    /// - Parameters:
    ///   - duration: How far to move.
    public func advance(by duration: Duration) {
        let woken: [Sleeper] = state.withLock { state in
            state.now = state.now.adding(duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// Suspends until the clock has been advanced by `duration` (returns at once for zero).
    ///
    /// - Parameters:
    ///   - duration: How long to wait on this clock.
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        let id: UInt64 = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { state in
                    let deadline = state.now.adding(duration)
                    if deadline <= state.now || Task.isCancelled { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return false
                }
                if resumeNow {
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
                }
            }
        } onCancel: {
            let cancelled: Sleeper? = state.withLock { state in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }
}
