import ExportAdapters
import ExportCore
import Foundation
import Testing

/// The example of Docs/Schedules.md, compiled and run here; a test checks that the page prints it verbatim.
@Suite("Docs/Schedules.md example")
struct SchedulesDocTests {
    @Test("the example makes a schedule whose first occurrence becomes one export")
    func example() async throws {
        let clock = ManualClock(now: try RFC3339.parse("2026-01-01T00:00:00Z"))

        // Schedules.md begins
        let backend = InMemoryBackend(clock: clock)  // or FileSystemBackend, AWSBackend: `.ports` carries the schedule store
        let service = try ExportService(ports: backend.ports)
        let scheduler = try ExportScheduler(ports: backend.ports)

        // "On the 1st of every month at 11:20 PM India time"; runs missed during downtime: the latest, once.
        let schedule = try await service.createSchedule(
            ScheduleRequest(
                owner: "ada", name: "Monthly report", recipient: try EmailAddress(validating: "ada@example.com"),
                recurrence: try .cron("20 23 1 * *"), timeZone: "Asia/Kolkata", catchUp: .runLatest))
        print(schedule.nextRunAt!)  // 2026-01-01 17:50:00 +0000

        // In every process that should fire schedules (any number of them):
        let firing = Task { try await scheduler.run(every: .seconds(15)) }
        // Schedules.md ends

        #expect(schedule.nextRunAt == (try RFC3339.parse("2026-01-01T17:50:00Z")))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(18 * 3600))
        var jobs: [ExportJob] = []
        for _ in 0..<10_000 where jobs.isEmpty {
            await Task.yield()
            jobs = await backend.jobStore.allJobs
        }
        firing.cancel()
        _ = await firing.result
        let run = try #require(jobs.first)
        #expect(jobs.count == 1)
        #expect(run.scheduledRun?.scheduleName == "Monthly report")
        #expect(run.scheduledRun?.slot == (try RFC3339.parse("2026-01-01T17:50:00Z")))
        #expect(try await service.schedule(schedule.id, requester: "ada").nextRunAt == (try RFC3339.parse("2026-02-01T17:50:00Z")))
    }

    @Test("Docs/Schedules.md prints the example between the markers verbatim")
    func pageMirrorsCode() throws {
        let here = URL(fileURLWithPath: #filePath)
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: here, encoding: .utf8)
        let page = try String(contentsOf: root.appendingPathComponent("Docs/Schedules.md"), encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let begin = try #require(lines.firstIndex { $0.hasSuffix("// Schedules.md begins") })
        let end = try #require(lines.firstIndex { $0.hasSuffix("// Schedules.md ends") })
        let code = lines[(begin + 1)..<end].map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : $0 }
        #expect(page.contains("```swift\n" + code.joined(separator: "\n") + "\n```"), "Docs/Schedules.md does not print the example verbatim")
    }
}
