import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("ManualClock")
struct ManualClockTests {
    @Test func startsAtAFixedInstantAndAdvances() {
        let clock = ManualClock()
        #expect(clock.now() == Date(timeIntervalSince1970: 1_767_225_600))
        clock.advance(by: .milliseconds(1500))
        #expect(clock.now() == Date(timeIntervalSince1970: 1_767_225_601.5))
    }

    @Test func sleepReturnsOnlyWhenAdvancedPastTheDeadline() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(10)) }
        await eventually("the task sleeps on the clock") { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(9))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        try await sleeper.value
        #expect(clock.sleeperCount == 0)
    }

    @Test func zeroSleepReturnsAtOnce() async throws {
        let clock = ManualClock()
        try await clock.sleep(for: .zero)
        #expect(clock.sleeperCount == 0)
    }

    @Test func cancellingASleeperThrowsAndUnregistersIt() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
        await eventually("the task sleeps on the clock") { clock.sleeperCount == 1 }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func oneAdvanceWakesOnlyTheDueSleepers() async throws {
        let clock = ManualClock()
        let short = Task { try await clock.sleep(for: .seconds(1)) }
        let long = Task { try await clock.sleep(for: .seconds(100)) }
        await eventually("both tasks sleep") { clock.sleeperCount == 2 }
        clock.advance(by: .seconds(5))
        try await short.value
        #expect(clock.sleeperCount == 1)
        long.cancel()
        await #expect(throws: CancellationError.self) { try await long.value }
    }
}
