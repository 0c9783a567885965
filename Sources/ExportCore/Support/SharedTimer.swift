import Foundation
import Synchronization

/// Many tasks' sleeps on one clock, served by one sleep of the clock's at a time: the heartbeats of a
/// worker's running exports, the long polls of an in-memory queue.
///
/// Each ``ExportClock/sleep(for:)`` of ``SystemClock`` is a `Task.sleep`, which on Linux arms a timer
/// through libdispatch's manager thread and, when cancelled, stays armed until its deadline. A tiny
/// export that ends long before its first heartbeat, or a long poll that a message ends at once, would
/// pay for one such timer (and its wake-ups) each. Here a sleeper only records its deadline; one alarm
/// task sleeps on the clock until the earliest deadline, wakes the sleepers that are due and sleeps
/// again until the next. The alarm is re-armed only for a sleeper due before it (rare: sleepers come
/// with one interval). On ``SystemClock`` an alarm left without sleepers stays until its deadline, when
/// it ends (the next sleeper is likely to come first and use it); on any other clock it is cancelled
/// as soon as no sleeper is left, so a test's `ManualClock` sees no sleep of an idle timer.
///
/// A sleep can also end early, by a ``Wakeup`` that another task raises: see ``sleep(for:unless:)``.
///
/// Deadlines are kept as time since the timer was made: on the continuous clock for ``SystemClock``
/// (as its own sleeps are, so setting the wall clock moves no heartbeat), on the clock's dates for any
/// other clock (a `ManualClock` moves only when a test advances it).
public final class SharedTimer: Sendable {
    private struct Sleeper {
        let deadline: Duration
        /// Resumed with `false` when the deadline came, `true` when a ``Wakeup`` ended the sleep.
        let continuation: CheckedContinuation<Bool, any Error>
    }

    private struct Alarm {
        let generation: UInt64
        let deadline: Duration
        let task: Task<Void, Never>
    }

    private struct State {
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        var generation: UInt64 = 0
        var alarm: Alarm?
    }

    /// The clock the alarm sleeps on and deadlines are read from.
    let clock: any ExportClock
    private let state = Mutex(State())
    private let originDate: Date
    private let originInstant: ContinuousClock.Instant
    private let continuous: Bool

    /// Creates a timer on a clock.
    ///
    /// - Parameters:
    ///   - clock: The clock to sleep on.
    public init(clock: any ExportClock) {
        self.clock = clock
        continuous = clock is SystemClock
        originDate = clock.now()
        originInstant = .now
    }

    /// The time since the timer was made (see the type's description).
    private func elapsed() -> Duration {
        continuous ? .now - originInstant : .seconds(clock.now().timeIntervalSince(originDate))
    }

    /// Suspends until `duration` has passed on the timer's clock.
    ///
    /// - Parameters:
    ///   - duration: How long to wait.
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    public func sleep(for duration: Duration) async throws {
        _ = try await sleep(for: duration, unless: nil)
    }

    /// Suspends until `duration` has passed on the timer's clock, or until `wakeup` is raised, whichever comes
    /// first (at once when it was raised before).
    ///
    /// - Parameters:
    ///   - duration: How long to wait at most.
    ///   - wakeup: What may end the sleep early, or `nil`.
    /// - Returns: `true` when `wakeup` ended the sleep, `false` when the time passed.
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    @discardableResult
    public func sleep(for duration: Duration, unless wakeup: Wakeup?) async throws -> Bool {
        try Task.checkCancellation()
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
                let deadline = elapsed() + duration
                let (registered, superseded) = state.withLock { state -> (Bool, Task<Void, Never>?) in
                    if Task.isCancelled { return (false, nil) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    if let alarm = state.alarm, alarm.deadline <= deadline { return (true, nil) }
                    let previous = state.alarm?.task
                    arm(&state, deadline: deadline, wait: duration)
                    return (true, previous)
                }
                superseded?.cancel()
                if !registered {
                    continuation.resume(throwing: CancellationError())
                } else if let wakeup, !wakeup.attach(id, to: self) {
                    end(id, woken: true)  // raised before the sleep began
                }
            }
        } onCancel: {
            end(id, woken: nil)
        }
    }

    /// Ends one sleep early, if it still sleeps: `woken` `true` by its ``Wakeup``, `nil` by cancellation.
    /// The alarm is cancelled when no sleeper is left, unless the clock is ``SystemClock``.
    fileprivate func end(_ id: UInt64, woken: Bool?) {
        let (sleeper, idle) = state.withLock { state -> (Sleeper?, Task<Void, Never>?) in
            let sleeper = state.sleepers.removeValue(forKey: id)
            guard state.sleepers.isEmpty, !continuous, let alarm = state.alarm else { return (sleeper, nil) }
            state.alarm = nil
            return (sleeper, alarm.task)
        }
        idle?.cancel()
        if let woken {
            sleeper?.continuation.resume(returning: woken)
        } else {
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// The number of tasks sleeping: for tests.
    var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// Starts an alarm that sleeps `wait`, until `deadline`, replacing the current one (whose task
    /// the caller cancels).
    private func arm(_ state: inout State, deadline: Duration, wait: Duration) {
        state.generation += 1
        let generation = state.generation
        let task = Task { [self] in await ring(generation, after: wait) }
        state.alarm = Alarm(generation: generation, deadline: deadline, task: task)
    }

    /// The alarm's loop: sleeps, wakes the sleepers that are due, and sleeps until the next deadline;
    /// ends when it was replaced or cancelled, or no sleeper is left.
    private func ring(_ generation: UInt64, after first: Duration) async {
        var wait = first
        while true {
            do { try await clock.sleep(for: wait) } catch { return }  // cancelled: replaced, or nobody sleeps
            let now = elapsed()
            let (due, next) = state.withLock { state -> ([Sleeper], Duration?) in
                guard let alarm = state.alarm, alarm.generation == generation else { return ([], nil) }
                var due: [Sleeper] = []
                var earliest: Duration?
                for (id, sleeper) in state.sleepers {
                    if Self.isDue(sleeper.deadline, now) {
                        due.append(sleeper)
                        state.sleepers[id] = nil
                    } else if earliest.map({ sleeper.deadline < $0 }) ?? true {
                        earliest = sleeper.deadline
                    }
                }
                guard let earliest else {
                    state.alarm = nil
                    return (due, nil)
                }
                state.alarm = Alarm(generation: generation, deadline: earliest, task: alarm.task)
                return (due, earliest - now)
            }
            for sleeper in due { sleeper.continuation.resume(returning: false) }
            guard let next else { return }
            wait = next
        }
    }

    /// Whether `deadline` has come at `now`, give or take a millisecond: `Date` arithmetic rounds, and a
    /// sleeper of a manual clock advanced exactly to its deadline must wake.
    private static func isDue(_ deadline: Duration, _ now: Duration) -> Bool {
        deadline - now <= .milliseconds(1)
    }
}

/// Ends a ``SharedTimer`` sleep early: one task sleeps with it (``SharedTimer/sleep(for:unless:)``),
/// another raises it once its work is done, and the sleeper wakes at once. Raised before the sleep
/// begins, the sleep returns at once.
public final class Wakeup: Sendable {
    private enum State {
        case idle
        case sleeping(UInt64, SharedTimer)
        case raised
    }

    private let state = Mutex(State.idle)

    /// Creates a wakeup that is not raised.
    public init() {}

    /// Ends the sleep, now or when it begins.
    public func raise() {
        let sleeping = state.withLock { state -> (UInt64, SharedTimer)? in
            defer { state = .raised }
            if case .sleeping(let id, let timer) = state { return (id, timer) }
            return nil
        }
        if let (id, timer) = sleeping { timer.end(id, woken: true) }
    }

    /// Records the sleep `id` of `timer` as the one to end; `false` when it was raised already.
    fileprivate func attach(_ id: UInt64, to timer: SharedTimer) -> Bool {
        state.withLock { state in
            if case .raised = state { return false }
            state = .sleeping(id, timer)
            return true
        }
    }
}
