import ExportCore
import Synchronization

/// A first-come, first-served lock among the tasks of this process, taken before the `flock` of the
/// same lock file in ``POSIXFile/withLock(_:committer:_:)``.
///
/// `flock` cannot suspend a task, so a task that finds it taken polls with a growing sleep (1 to 16
/// ms). Among the tasks of one process that polling was the whole cost under load: 32 clients of one
/// store waited a millisecond or more for critical sections of about a hundred microseconds, and the
/// first to poll after a release won, whoever had waited longest. With this lock the tasks of a process
/// queue here, each woken by the release before it, so only one of them at a time meets the `flock`,
/// which then excludes only other processes (and polls only against them).
///
/// A lock is shared by every adapter of the process that uses the same lock file path (the stores
/// resolve their roots to absolute, symlink-free paths).
final class LocalLock: Sendable {
    private struct State {
        var held = false
        var nextTicket: UInt64 = 0
        var waiters: [(ticket: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        /// Tickets cancelled before their waiter was queued.
        var cancelled: Set<UInt64> = []
    }

    private let state = Mutex(State())

    private static let locks = Mutex<[String: LocalLock]>([:])

    /// The lock of `path`, made on first use.
    static func named(_ path: String) -> LocalLock {
        locks.withLock { locks in
            if let lock = locks[path] { return lock }
            let lock = LocalLock()
            locks[path] = lock
            return lock
        }
    }

    /// How many tasks are waiting, for tests.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// How many times the holder found the lock file's `flock` held by another process (or another
    /// open description in this one), for tests.
    let contendedFlockAttempts = Atomic<Int>(0)

    /// Since when the lock file's `flock` has been held elsewhere without a break, as the holders of
    /// this lock saw it one after another, and when one of them last saw it so. A queue behind a
    /// process stuck holding the `flock` ends once that has lasted the wait limit, however long each
    /// task queued here (queueing is not waiting for the other process).
    private let blockage = Mutex<(since: ContinuousClock.Instant, seen: ContinuousClock.Instant)?>(nil)

    /// Notes that the holder found the `flock` held elsewhere at `now`.
    ///
    /// - Returns: How long it has been held elsewhere without a break. A sighting more than a second
    ///   after the last one (nobody was polling: the last holder took the `flock`, gave up or was
    ///   cancelled) starts a new stretch.
    func blocked(at now: ContinuousClock.Instant) -> Duration {
        contendedFlockAttempts.add(1, ordering: .relaxed)
        return blockage.withLock { blockage in
            var stretch = blockage ?? (now, now)
            if now - stretch.seen > .seconds(1) { stretch.since = now }
            stretch.seen = now
            blockage = stretch
            return now - stretch.since
        }
    }

    /// Notes that the holder took the `flock`.
    func unblocked() { blockage.withLock { $0 = nil } }

    /// Takes the lock, waiting behind the tasks that asked first.
    ///
    /// - Throws: `ExportError.Code.cancelled` when the task is cancelled while waiting (it then holds nothing).
    func acquire(_ what: String) async throws(ExportError) {
        let ticket: UInt64? = state.withLock { state in
            if !state.held {
                state.held = true
                return nil
            }
            state.nextTicket += 1
            return state.nextTicket
        }
        guard let ticket else { return }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let outcome: Result<Void, any Error>? = state.withLock { state in
                        if state.cancelled.remove(ticket) != nil { return .failure(CancellationError()) }
                        if !state.held {
                            state.held = true
                            return .success(())
                        }
                        state.waiters.append((ticket, continuation))
                        return nil
                    }
                    if let outcome { continuation.resume(with: outcome) }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                    guard let index = state.waiters.firstIndex(where: { $0.ticket == ticket }) else {
                        // Not queued yet (or already handed the lock): mark it, unless it holds the lock.
                        state.cancelled.insert(ticket)
                        return nil
                    }
                    return state.waiters.remove(at: index).continuation
                }
                waiter?.resume(throwing: CancellationError())
            }
        } catch {
            throw ExportError(.cancelled, "cancelled while waiting for \(what)", cause: error)
        }
        // Handed the lock: a cancellation that came too late to matter leaves its mark behind.
        _ = state.withLock { $0.cancelled.remove(ticket) }
    }

    /// Releases the lock, handing it to the longest waiting task if there is one.
    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.waiters.isEmpty else {
                state.held = false
                return nil
            }
            // `held` stays true: the lock passes straight to the waiter, so no newcomer can barge in.
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
