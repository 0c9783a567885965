import ExportAdapters
import ExportCore
import Foundation
import Testing

/// The scheduler and the service's schedule calls on the in-memory backend and a manual clock: firing,
/// racing schedulers and interrupted passes, catch-up policies, pause, bounds, DST, owner isolation.
@Suite("Scheduler")
struct SchedulerTests {
    static let t0 = try! RFC3339.parse("2026-01-01T00:00:00Z")
    static func at(_ text: String) -> Date { try! RFC3339.parse(text) }

    struct Setup {
        let clock = ManualClock(now: SchedulerTests.t0)
        let backend: InMemoryBackend
        let service: ExportService
        let scheduler: ExportScheduler

        init(lateness: Duration = .seconds(300)) throws {
            backend = InMemoryBackend(clock: clock)
            service = try ExportService(ports: backend.ports)
            scheduler = try ExportScheduler(ports: backend.ports, configuration: .init(lateness: lateness))
        }

        func create(
            _ recurrence: ExportRecurrence, owner: UserID = "ada", zone: String = "UTC", catchUp: CatchUpPolicy = .runLatest,
            maxRuns: Int? = nil, endsAt: Date? = nil, window: ScheduleWindow? = nil
        ) async throws -> ExportSchedule {
            try await service.createSchedule(
                ScheduleRequest(
                    owner: owner, name: "Nightly", recipient: EmailAddress("\(owner.rawValue)@example.com")!, recurrence: recurrence,
                    timeZone: zone, endsAt: endsAt, maxRuns: maxRuns, catchUp: catchUp, window: window))
        }


        /// Advances in `step`s for `total`, ticking after each; returns the slots of the jobs made.
        func run(for total: Duration, step: Duration) async throws -> [String] {
            var elapsed = Duration.zero
            while elapsed < total {
                clock.advance(by: step)
                elapsed += step
                try await scheduler.tick()
            }
            return await slots()
        }

        func slots() async -> [String] {
            await backend.jobStore.allJobs.compactMap { $0.scheduledRun.flatMap { RFC3339.string($0.slot) } }.sorted()
        }
    }

    @Test("an occurrence fires once, as an ordinary queued export linked to its schedule")
    func firesOnce() async throws {
        let setup = try Setup()
        setup.clock.advance(by: .seconds(60))
        let schedule = try await setup.create(try .cron("*/5 * * * *"))
        #expect(schedule.nextRunAt == Self.at("2026-01-01T00:05:00Z"))
        try await setup.scheduler.tick()
        #expect(await setup.backend.jobStore.count == 0)
        setup.clock.advance(by: .seconds(241))
        let report = try await setup.scheduler.tick()
        #expect(report.fired.count == 1)
        try await setup.scheduler.tick()
        let jobs = await setup.backend.jobStore.allJobs
        let job = try #require(jobs.first)
        #expect(jobs.count == 1)
        #expect(job.scheduledRun == ScheduledRun(scheduleID: schedule.id, scheduleName: "Nightly", slot: Self.at("2026-01-01T00:05:00Z")))
        #expect(job.state == .queued && job.owner == "ada")
        #expect(await setup.backend.queue.pendingMessages.map(\.jobID) == [job.id])
        let status = try await setup.service.status(of: job.id, requester: "ada")
        #expect(status.scheduledRun?.scheduleID == schedule.id)
        let stored = try await setup.service.schedule(schedule.id, requester: "ada")
        #expect(stored.runCount == 1 && stored.lastJobID == job.id && stored.nextRunAt == Self.at("2026-01-01T00:10:00Z"))
    }

    @Test("a run is made beside the owner's own active export, not swallowed by it")
    func besideActiveExport() async throws {
        let setup = try Setup()
        _ = try await setup.service.request(ExportRequest(owner: "ada", recipient: EmailAddress("ada@example.com")!))
        _ = try await setup.create(try .every(.seconds(600)))
        // The start (now) is the first occurrence of an interval: 00:00, 00:10, 00:20.
        #expect(try await setup.run(for: .seconds(1200), step: .seconds(60)).count == 3)
    }

    @Test("windows: previousPeriod covers each run's own period; sinceLastRun covers everything since the last run, across downtime")
    func windows() async throws {
        let setup = try Setup()
        _ = try await setup.create(try .cron("0 6 * * *"), owner: "ada", window: .previousPeriod)
        _ = try await setup.create(try .cron("0 6 * * *"), owner: "bob", window: .sinceLastRun)
        _ = try await setup.create(try .cron("0 6 * * *"), owner: "cy")
        setup.clock.advance(by: .seconds(6 * 3600))
        try await setup.scheduler.tick()  // 1 January 06:00 for all three
        // No scheduler for three days: 2, 3 and 4 January pass; runLatest runs the 4th's once.
        setup.clock.advance(by: .seconds(3 * 86400 + 60))
        try await setup.scheduler.tick()
        var byOwner: [String: [String]] = [:]
        for job in await setup.backend.jobStore.allJobs {
            guard let run = job.scheduledRun else { continue }
            let range = job.options.range.map { "\(RFC3339.string($0.from!)!) \(RFC3339.string($0.to!)!)" } ?? "all"
            byOwner[job.owner.rawValue, default: []].append("\(RFC3339.string(run.slot)!): \(range)")
        }
        #expect(byOwner["ada"]?.sorted() == [
            "2026-01-01T06:00:00Z: 2025-12-31T06:00:00Z 2026-01-01T06:00:00Z", "2026-01-04T06:00:00Z: 2026-01-03T06:00:00Z 2026-01-04T06:00:00Z",
        ])
        #expect(byOwner["bob"]?.sorted() == [
            "2026-01-01T06:00:00Z: 2025-12-31T06:00:00Z 2026-01-01T06:00:00Z", "2026-01-04T06:00:00Z: 2026-01-01T06:00:00Z 2026-01-04T06:00:00Z",
        ])
        #expect(byOwner["cy"]?.sorted() == ["2026-01-01T06:00:00Z: all", "2026-01-04T06:00:00Z: all"])
    }

    @Test("a window is set, changed and removed through the service; a fixed range beside it is refused")
    func windowChanges() async throws {
        let setup = try Setup()
        let schedule = try await setup.create(try .cron("0 6 * * *"), window: .sinceLastRun)
        #expect(schedule.window == .sinceLastRun)
        var change = ScheduleChange()
        change.window = .some(nil)
        #expect(try await setup.service.updateSchedule(schedule.id, requester: "ada", change: change).window == nil)
        change.window = .previousPeriod
        let stored = try await setup.service.updateSchedule(schedule.id, requester: "ada", change: change)
        #expect(stored.window == .previousPeriod)
        let decoded = try JSONDecoder().decode(ExportSchedule.self, from: try JSONEncoder().encode(stored))
        #expect(decoded == stored)
        var both = stored
        both.options.range = try ExportTimeRange(from: Self.t0, to: nil)
        #expect { try both.validate() } throws: { ($0 as? ExportError)?.code == .invalidSchedule }
    }

    /// A scheduler store whose updates fail: a scheduler process that dies after creating the job and
    /// before moving the schedule on.
    struct DyingScheduleStore: ScheduleStore {
        let base: any ScheduleStore
        func create(_ schedule: ExportSchedule) async throws -> ExportSchedule { try await base.create(schedule) }
        func get(_ id: ScheduleID) async throws -> ExportSchedule? { try await base.get(id) }
        func update(_ schedule: ExportSchedule) async throws -> ExportSchedule { throw ExportError(.unavailable, "process died") }
        func delete(_ id: ScheduleID, version: UInt64?) async throws -> Bool { try await base.delete(id, version: version) }
        func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportSchedule> {
            try await base.list(owner: owner, after: cursor, limit: limit)
        }
        func due(at now: Date, limit: Int) async throws -> [ExportSchedule] { try await base.due(at: now, limit: limit) }
    }

    @Test("a pass that dies after creating the job leaves one job: the next pass finds it")
    func interruptedPass() async throws {
        let setup = try Setup()
        _ = try await setup.create(try .cron("0 * * * *"))
        var ports = setup.backend.ports
        ports.scheduleStore = DyingScheduleStore(base: setup.backend.scheduleStore)
        let dying = try ExportScheduler(ports: ports)
        setup.clock.advance(by: .seconds(3600))
        await #expect(throws: ExportError.self) { try await dying.tick() }
        #expect(await setup.backend.jobStore.count == 1)
        setup.clock.advance(by: .seconds(30))
        let report = try await setup.scheduler.tick()
        #expect(report.fired.isEmpty && report.alreadyFired.count == 1)
        #expect(await setup.backend.jobStore.count == 1)
        #expect(await setup.backend.queue.pendingMessages.count == 1, "the finder queued the job a second time")
    }

    @Test("many schedulers racing on one store make one job per occurrence")
    func racingSchedulers() async throws {
        let setup = try Setup()
        for owner in ["ada", "bob", "cy"] { _ = try await setup.create(try .cron("*/10 * * * *"), owner: UserID(owner)) }
        let schedulers = try (0..<6).map { _ in try ExportScheduler(ports: setup.backend.ports) }
        for _ in 0..<36 {
            setup.clock.advance(by: .seconds(100))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for scheduler in schedulers { group.addTask { try await scheduler.tick() } }
                try await group.waitForAll()
            }
        }
        let jobs = await setup.backend.jobStore.allJobs
        #expect(jobs.count == 3 * 7, "3 schedules × 7 occurrences from 00:00 to 01:00, got \(jobs.count)")
        #expect(Set(jobs.map { "\($0.owner)@\($0.scheduledRun!.slot)" }).count == jobs.count, "an occurrence has two jobs")
        #expect(await setup.backend.queue.pendingMessages.count == jobs.count, "one message per job")
    }

    @Test("after downtime, runLatest runs the latest missed occurrence once")
    func catchUpLatest() async throws {
        let setup = try Setup()
        let schedule = try await setup.create(try .cron("0 * * * *"), catchUp: .runLatest)
        setup.clock.advance(by: .seconds(10 * 3600 + 1200))  // ten occurrences missed
        try await setup.scheduler.tick()
        #expect(await setup.slots() == ["2026-01-01T10:00:00Z"])
        let stored = try await setup.service.schedule(schedule.id, requester: "ada")
        #expect(stored.skippedCount == 10 && stored.nextRunAt == Self.at("2026-01-01T11:00:00Z"))
    }

    @Test("after downtime, skip runs nothing late and waits for the next occurrence")
    func catchUpSkip() async throws {
        let setup = try Setup(lateness: .seconds(300))
        let schedule = try await setup.create(try .cron("0 * * * *"), catchUp: .skip)
        setup.clock.advance(by: .seconds(10 * 3600 + 1200))
        try await setup.scheduler.tick()
        #expect(await setup.slots().isEmpty)
        let stored = try await setup.service.schedule(schedule.id, requester: "ada")
        #expect(stored.skippedCount == 11 && stored.nextRunAt == Self.at("2026-01-01T11:00:00Z"))
        // On time (within the lateness), skip runs as usual.
        setup.clock.advance(by: .seconds(2400 + 120))
        try await setup.scheduler.tick()
        #expect(await setup.slots() == ["2026-01-01T11:00:00Z"])
    }

    @Test("a paused schedule fires nothing; resumed, it catches up by its policy")
    func pauseAndResume() async throws {
        let setup = try Setup()
        let schedule = try await setup.create(try .cron("*/15 * * * *"))
        _ = try await setup.service.pauseSchedule(schedule.id, requester: "ada")
        #expect(try await setup.run(for: .seconds(3 * 3600), step: .seconds(60)).isEmpty)
        _ = try await setup.service.resumeSchedule(schedule.id, requester: "ada")
        try await setup.scheduler.tick()
        #expect(await setup.slots() == ["2026-01-01T03:00:00Z"])
    }

    @Test("maxRuns and endsAt end a schedule")
    func bounds() async throws {
        let setup = try Setup()
        let counted = try await setup.create(try .every(.seconds(600)), owner: "ada", maxRuns: 2)
        let ended = try await setup.create(try .every(.seconds(600)), owner: "bob", endsAt: Self.t0.addingTimeInterval(1500))
        _ = try await setup.run(for: .seconds(7200), step: .seconds(60))
        let jobs = await setup.backend.jobStore.allJobs
        #expect(jobs.filter { $0.owner == "ada" }.count == 2)
        #expect(jobs.filter { $0.owner == "bob" }.count == 3)  // 00:00, 00:10, 00:20; 00:30 is past the end
        #expect(try await setup.service.schedule(counted.id, requester: "ada").nextRunAt == nil)
        #expect(try await setup.service.schedule(ended.id, requester: "bob").nextRunAt == nil)
    }

    @Test("daylight saving as cron does, through the scheduler: New York, spring and fall")
    func daylightSaving() async throws {
        let setup = try Setup()
        setup.clock.advance(by: .seconds(Int64(Self.at("2026-03-07T12:00:00Z").timeIntervalSince(Self.t0))))
        _ = try await setup.create(try .cron("30 2 * * *"), owner: "ada", zone: "America/New_York")
        _ = try await setup.create(try .cron("30 1 * * *"), owner: "bob", zone: "America/New_York")
        _ = try await setup.run(for: .seconds(3 * 86400), step: .seconds(600))
        let jobs = await setup.backend.jobStore.allJobs
        #expect(jobs.filter { $0.owner == "ada" }.map { RFC3339.string($0.scheduledRun!.slot)! } == [
            "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z",
        ])
        let fall = try Setup()
        fall.clock.advance(by: .seconds(Int64(Self.at("2026-10-31T12:00:00Z").timeIntervalSince(Self.t0))))
        _ = try await fall.create(try .cron("30 1 * * *"), zone: "America/New_York")
        #expect(try await fall.run(for: .seconds(2 * 86400), step: .seconds(600)) == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
    }

    @Test("another user's schedule is not found for every call, and never listed")
    func ownerIsolation() async throws {
        let setup = try Setup()
        let schedule = try await setup.create(try .cron("@daily"), owner: "ada")
        let service = setup.service
        let id = schedule.id
        var edit = ScheduleChange()
        edit.name = "mine now"
        let change = edit
        let calls: [@Sendable () async throws -> Void] = [
            { _ = try await service.schedule(id, requester: "eve") },
            { _ = try await service.updateSchedule(id, requester: "eve", change: change) },
            { _ = try await service.pauseSchedule(id, requester: "eve") },
            { _ = try await service.resumeSchedule(id, requester: "eve") },
            { try await service.deleteSchedule(id, requester: "eve") },
        ]
        for call in calls {
            await #expect { try await call() } throws: { ($0 as? ExportError)?.code == .notFound }
        }
        #expect(try await service.schedules(requester: "eve").items.isEmpty)
        #expect(try await service.schedules(requester: "ada").items.map(\.id) == [id])
        let untouched = try await service.schedule(id, requester: "ada")
        #expect(untouched.name == "Nightly" && !untouched.paused && untouched.version == 1)
        try await service.deleteSchedule(id, requester: "ada")
        await #expect { _ = try await service.schedule(id, requester: "ada") } throws: { ($0 as? ExportError)?.code == .notFound }
    }

    @Test("updating the recurrence moves the next run; bad values are typed errors")
    func updateAndBadInput() async throws {
        let setup = try Setup()
        let schedule = try await setup.create(try .cron("0 9 * * *"))
        var change = ScheduleChange()
        change.recurrence = try .cron("30 23 * * *")
        change.timeZone = "Asia/Kolkata"
        let updated = try await setup.service.updateSchedule(schedule.id, requester: "ada", change: change)
        #expect(updated.nextRunAt == Self.at("2026-01-01T18:00:00Z"))
        var bad = ScheduleChange()
        bad.timeZone = "Mars/Olympus_Mons"
        await #expect { _ = try await setup.service.updateSchedule(schedule.id, requester: "ada", change: bad) } throws: {
            ($0 as? ExportError)?.code == .invalidSchedule && ($0 as? ExportError)?.message.contains("timeZone") == true
        }
        await #expect { _ = try await setup.create(try .cron("0 9 * * *"), zone: "Nowhere/City") } throws: {
            ($0 as? ExportError)?.code == .invalidSchedule
        }
        await #expect { _ = try await setup.create(try .cron("0 0 30 2 *")) } throws: { ($0 as? ExportError)?.message.contains("never fires") == true }
        let bare = InMemoryBackend(clock: setup.clock)
        var ports = bare.ports
        ports.scheduleStore = nil
        #expect { _ = try ExportScheduler(ports: ports) } throws: { ($0 as? ExportError)?.code == .configuration }
    }
}
