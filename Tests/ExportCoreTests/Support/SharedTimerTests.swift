import ExportAdapters
import Foundation
import Testing

@testable import ExportCore

@Suite("SharedTimer")
struct SharedTimerTests {
    let clock = ManualClock()

    /// Starts a task that sleeps on `timer` and reports whether it woke (`false`: cancelled).
    private func sleeper(_ timer: SharedTimer, _ duration: Duration) -> Task<Bool, Never> {
        Task {
            do {
                try await timer.sleep(for: duration)
                return true
            } catch {
                return false
            }
        }
    }

    @Test("many sleepers share one sleep on the clock and wake together")
    func manySleepersOneClockSleep() async {
        let timer = SharedTimer(clock: clock)
        let sleepers = (0..<3).map { _ in sleeper(timer, .seconds(10)) }
        await eventually("three sleepers wait") { timer.sleeperCount == 3 }
        #expect(clock.sleeperCount == 1, "one sleep on the clock, not one per sleeper")
        clock.advance(by: .seconds(9))
        await Task.yield()
        #expect(timer.sleeperCount == 3, "none is due before its deadline")
        clock.advance(by: .seconds(1))
        for task in sleepers { #expect(await task.value) }
        await eventually("the alarm ended") { clock.sleeperCount == 0 }
    }

    @Test("sleepers with later deadlines wake at theirs, one after the other")
    func laterDeadlinesWakeInTurn() async {
        let timer = SharedTimer(clock: clock)
        let first = sleeper(timer, .seconds(10))
        await eventually("the first sleeps") { timer.sleeperCount == 1 && clock.sleeperCount == 1 }
        clock.advance(by: .seconds(4))
        let second = sleeper(timer, .seconds(10))  // due at 14 s
        await eventually("the second sleeps") { timer.sleeperCount == 2 }
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(6))
        #expect(await first.value)
        await eventually("the alarm waits for the second") { timer.sleeperCount == 1 && clock.sleeperCount == 1 }
        clock.advance(by: .seconds(3))
        await Task.yield()
        #expect(timer.sleeperCount == 1, "the second is not due yet")
        clock.advance(by: .seconds(1))
        #expect(await second.value)
        await eventually("the alarm ended") { clock.sleeperCount == 0 }
    }

    @Test("a sleeper due before the alarm re-arms it")
    func earlierSleeperRearms() async {
        let timer = SharedTimer(clock: clock)
        let long = sleeper(timer, .seconds(10))
        await eventually("the long one sleeps") { timer.sleeperCount == 1 && clock.sleeperCount == 1 }
        let short = sleeper(timer, .seconds(2))
        await eventually("the alarm was re-armed") { timer.sleeperCount == 2 && clock.sleeperCount == 1 }
        clock.advance(by: .seconds(2))
        #expect(await short.value)
        await eventually("the alarm waits for the long one") { timer.sleeperCount == 1 && clock.sleeperCount == 1 }
        clock.advance(by: .seconds(8))
        #expect(await long.value)
    }

    @Test("cancelling a sleeper throws at once; cancelling the last one leaves no sleep on the clock")
    func cancellation() async {
        let timer = SharedTimer(clock: clock)
        let kept = sleeper(timer, .seconds(10))
        let cancelled = sleeper(timer, .seconds(10))
        await eventually("both sleep") { timer.sleeperCount == 2 }
        cancelled.cancel()
        #expect(await cancelled.value == false)
        #expect(timer.sleeperCount == 1)
        #expect(clock.sleeperCount == 1, "the other sleeper still needs the alarm")
        kept.cancel()
        #expect(await kept.value == false)
        await eventually("the alarm was cancelled") { clock.sleeperCount == 0 }
        let late = sleeper(timer, .seconds(1))
        await eventually("a new sleeper arms a new alarm") { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(1))
        #expect(await late.value)
    }

    @Test("a cancelled task does not sleep")
    func cancelledTaskDoesNotSleep() async {
        let timer = SharedTimer(clock: clock)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            do {
                try await timer.sleep(for: .seconds(1))
                return true
            } catch {
                return false
            }
        }
        #expect(await task.value == false)
        #expect(clock.sleeperCount == 0)
    }

    @Test("a wakeup raised during the sleep ends it at once, and the alarm with it")
    func wakeupDuringSleep() async throws {
        let timer = SharedTimer(clock: clock)
        let wakeup = Wakeup()
        let sleeping = Task { try await timer.sleep(for: .seconds(10), unless: wakeup) }
        await eventually("it sleeps") { timer.sleeperCount == 1 && clock.sleeperCount == 1 }
        wakeup.raise()
        #expect(try await sleeping.value == true, "woken, not timed out")
        await eventually("no sleep is left on the clock") { clock.sleeperCount == 0 }
    }

    @Test("a wakeup raised before the sleep makes it return at once; one never raised lets the time pass")
    func wakeupBeforeSleepAndTimeout() async throws {
        let timer = SharedTimer(clock: clock)
        let early = Wakeup()
        early.raise()
        #expect(try await timer.sleep(for: .seconds(10), unless: early) == true)
        #expect(timer.sleeperCount == 0)
        let never = Wakeup()
        let sleeping = Task { try await timer.sleep(for: .seconds(10), unless: never) }
        await eventually("it sleeps") { timer.sleeperCount == 1 && clock.sleeperCount == 1 }
        clock.advance(by: .seconds(10))
        #expect(try await sleeping.value == false, "the time passed")
        never.raise()  // after the sleep: nothing to end
        #expect(try await timer.sleep(for: .seconds(10), unless: never) == true, "still raised for the next sleep")
    }

    @Test("on the system clock, sleepers wake after their own durations, measured on the continuous clock")
    func systemClock() async throws {
        let timer = SharedTimer(clock: SystemClock())
        let start = ContinuousClock.now
        async let short: Void = timer.sleep(for: .milliseconds(20))
        async let long: Void = timer.sleep(for: .milliseconds(60))
        try await short
        let shortTook = ContinuousClock.now - start
        try await long
        let longTook = ContinuousClock.now - start
        #expect(shortTook >= .milliseconds(20))
        #expect(longTook >= .milliseconds(60))
        #expect(timer.sleeperCount == 0)
    }
}
