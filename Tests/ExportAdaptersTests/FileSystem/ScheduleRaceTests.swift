import ExportAdapters
import ExportCore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Three scheduler processes (the demo's `schedule run`: scheduler, worker and reconciler) on one
/// file-system data directory and one accelerated clock, killed with SIGKILL at random moments and
/// replaced, must turn every occurrence of every schedule into exactly one job and one e-mail.
///
/// The processes are real, so this test waits on real time (the clock runs 60× faster than it).
@Suite("Scheduler processes racing under SIGKILL", .serialized)
struct ScheduleRaceTests {
    static let demo = CrashRecoveryTests.demo
    static let speed = 60.0
    static let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z on the shared clock
    static let runsEach = 6

    /// The shared clock as the processes read it.
    struct SharedClock: ExportClock {
        let origin: Date
        func now() -> Date { ScheduleRaceTests.start.addingTimeInterval(Date().timeIntervalSince(origin) * ScheduleRaceTests.speed) }
        func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration / ScheduleRaceTests.speed) }
    }

    @Test("every occurrence is one job and one e-mail, whatever is killed", arguments: [UInt64(3), 1977])
    func killedSchedulers(seed: UInt64) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.demo.path), "build the demo first: swift build --build-tests")
        let directory = try TestDirectory("schedule-race")
        defer { directory.remove() }
        var random = CrashRecoveryTests.Generator(state: seed)
        try directory.write(CrashRecoveryTests.membershipFile(users: 3, using: &random), to: "members.csv")
        try directory.write(Hex.encode(Array(repeating: 7, count: 32)) + "\n", to: "link-secret")
        let input = directory.path + "/members.csv"
        let source = try FileMembershipSource(fileURL: URL(fileURLWithPath: input))
        let origin = Date().addingTimeInterval(1)
        let clock = SharedClock(origin: origin)

        // Three schedules, each firing every 3 clock minutes (3 real seconds), from 1 clock minute on.
        let store = try FileScheduleStore(directory: directory.sub("schedules"))
        let firstSlot = Self.start.addingTimeInterval(60)
        let recurrences = [try ExportRecurrence.every(.seconds(180)), try .cron("1-59/3 * * * *"), try .cron("1,4,7,10,13,16,19,22 0 * * *")]
        var schedules: [ExportSchedule] = []
        for (owner, recurrence) in zip(source.owners, recurrences) {
            schedules.append(
                try await store.create(
                    try ExportSchedule(
                        id: .random(), owner: owner, name: "race \(owner)", recipient: EmailAddress("\(owner.rawValue)@example.com")!,
                        options: ExportOptions(format: .csv, columns: ExportColumn.standard), recurrence: recurrence, timeZone: "Europe/London",
                        startsAt: firstSlot, maxRuns: Self.runsEach, createdAt: clock.now())))
        }
        let expectedSlots = (0..<Self.runsEach).map { firstSlot.addingTimeInterval(Double($0) * 180) }
        for schedule in schedules { #expect(schedule.nextRunAt == firstSlot) }

        let outcome = await SchedulerKillLoop(
            demo: Self.demo, dataDirectory: directory.path, input: input, origin: origin, schedules: schedules.map(\.id),
            expectedJobs: schedules.count * Self.runsEach, random: random, timeLimit: 60
        ).runOnThread()
        #expect(outcome.finished, "the processes did not finish every run in time")
        #expect(outcome.kills >= 4, "only \(outcome.kills) processes were killed")

        let jobs = try FileJobStore(directory: directory.sub("jobs"))
        for schedule in schedules {
            var runs: [ExportJob] = []
            var cursor: PageCursor?
            repeat {
                let page = try await jobs.list(owner: schedule.owner, after: cursor, limit: 100)
                runs += page.items
                cursor = page.next
            } while cursor != nil
            let slots = runs.compactMap(\.scheduledRun).filter { $0.scheduleID == schedule.id }.map(\.slot).sorted()
            #expect(slots == expectedSlots, "\(schedule.owner): \(slots.count) runs for \(expectedSlots.count) occurrences: \(slots)")
            #expect(runs.allSatisfy { $0.state == .succeeded && $0.lifecycle.notified }, "\(runs.map { "\($0.id): \($0.state)" })")
            let stored = try #require(try await store.get(schedule.id))
            #expect(stored.runCount == Self.runsEach && stored.nextRunAt == nil)
        }
        let emails = directory.list("outbox").filter { $0.hasSuffix(".eml") }
        let expectedEmails = schedules.flatMap { schedule in expectedSlots.map { "\(schedule.occurrenceJobID(for: $0)).ready.eml" } }.sorted()
        #expect(emails == expectedEmails, "\(emails.count) e-mails for \(expectedEmails.count) runs")
        print("seed \(seed): \(outcome.kills) scheduler processes killed in \(outcome.rounds) rounds")
    }
}

/// The race test's processes and their killer, on a thread of its own (see `KillLoop`).
struct SchedulerKillLoop: Sendable {
    struct Outcome: Sendable {
        var kills = 0
        var rounds = 0
        var finished = false
    }

    let demo: URL
    let dataDirectory: String
    let input: String
    let origin: Date
    let schedules: [ScheduleID]
    let expectedJobs: Int
    var random: CrashRecoveryTests.Generator
    let timeLimit: TimeInterval

    func runOnThread() async -> Outcome {
        await withCheckedContinuation { continuation in
            let loop = self
            Thread {
                var copy = loop
                continuation.resume(returning: copy.run())
            }.start()
        }
    }

    private func spawn() -> Process? {
        let process = Process()
        process.executableURL = demo
        process.arguments = [
            "schedule", "run", "--data-dir", dataDirectory, "--input", input, "--clock-origin", "\(origin.timeIntervalSince1970)",
            "--clock-start", RFC3339.string(ScheduleRaceTests.start)!, "--speed", "\(Int(ScheduleRaceTests.speed))",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            return process
        } catch {
            return nil
        }
    }

    /// Whether every schedule has ended and every run is finished and e-mailed (records read straight
    /// from their files: this loop must not depend on the concurrency pool).
    private func allFinished() -> Bool {
        for id in schedules {
            guard let data = FileManager.default.contents(atPath: "\(dataDirectory)/schedules/schedules/\(id.rawValue).json"),
                let schedule = try? RFC3339.recordDecoder().decode(ExportSchedule.self, from: data), schedule.nextRunAt == nil
            else { return false }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(dataDirectory)/jobs/jobs")) ?? []
        guard names.count >= expectedJobs else { return false }
        return names.allSatisfy { name in
            guard let data = FileManager.default.contents(atPath: "\(dataDirectory)/jobs/jobs/\(name)"),
                let job = try? RFC3339.recordDecoder().decode(ExportJob.self, from: data)
            else { return false }
            return job.state.isTerminal && job.lifecycle.notified
        }
    }

    private mutating func run() -> Outcome {
        var outcome = Outcome()
        var processes = (0..<3).compactMap { _ in spawn() }
        let deadline = Date().addingTimeInterval(timeLimit)
        var nextKill = Date().addingTimeInterval(Double.random(in: 0.5...1.0, using: &random))
        while !allFinished(), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            if Date() >= nextKill, outcome.rounds < 14 {
                outcome.rounds += 1
                let live = processes.indices.filter { processes[$0].isRunning }
                // Every fourth round kills them all; the others one or two at random.
                let victims = outcome.rounds.isMultiple(of: 4) ? live : Array(live.shuffled(using: &random).prefix(Int.random(in: 1...2, using: &random)))
                for index in victims {
                    kill(processes[index].processIdentifier, SIGKILL)
                    processes[index].waitUntilExit()
                    outcome.kills += 1
                }
                nextKill = Date().addingTimeInterval(Double.random(in: 0.3...1.2, using: &random))
            }
            for index in processes.indices where !processes[index].isRunning {
                if let replacement = spawn() { processes[index] = replacement }
            }
        }
        outcome.finished = allFinished()
        for process in processes {
            kill(process.processIdentifier, SIGTERM)
            let exitBy = Date().addingTimeInterval(5)
            while process.isRunning && Date() < exitBy { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        return outcome
    }
}
