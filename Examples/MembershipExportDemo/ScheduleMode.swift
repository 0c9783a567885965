import ExampleSupport
import ExportAdapters
import ExportCore
import Foundation

/// `membership-export-demo schedule …`: a schedule firing on an accelerated clock.
///
/// - `schedule demo` (the default) creates a schedule for one synthetic user in a file-system data
///   directory and runs the scheduler, a worker and the reconciler on a clock running `--speed` times
///   faster than real time, printing each run and its e-mail, until `--runs` runs are finished.
/// - `schedule run` only runs the scheduler, a worker and the reconciler on an existing data directory
///   and a clock shared with other processes (`--clock-origin`, `--clock-start`, `--speed`), until it is
///   stopped: the scheduler race test runs three of these and kills them with SIGKILL.
struct ScheduleMode {
    static let usage = """
        USAGE: membership-export-demo schedule [demo] [--data-dir DIR] [--cron EXPR | --every SECONDS] [--zone ZONE]
                                                     [--start RFC3339] [--speed N] [--runs N] [--catch-up runLatest|skip]
                                                     [--window previousPeriod|sinceLastRun]
               membership-export-demo schedule run --data-dir DIR --input FILE --clock-origin UNIX-SECONDS
                                                     --clock-start RFC3339 --speed N

          --cron EXPR      5-field cron expression, read in --zone (default "0 */6 * * *")
          --every SECONDS  a fixed interval instead of cron
          --zone ZONE      IANA time zone (default America/New_York)
          --start RFC3339  what the accelerated clock reads at launch (default 2026-03-07T00:00:00Z, two days before
                           New York's spring-forward, so 02:00 local is seen to be skipped)
          --speed N        clock seconds per real second (default 7200: two hours a second)
          --runs N         stop once this many runs are finished and e-mailed (default 6)
          --window W       each run exports only the memberships active in its period (previousPeriod) or since
                           the last run (sinceLastRun); the file name and the e-mail name the range
        """

    var subcommand = "demo"
    var dataDirectory = "./membership-export-schedules"
    var recurrence: ExportRecurrence?
    var cron = "0 */6 * * *"
    var zone = "America/New_York"
    var start = Date(timeIntervalSince1970: 1_772_841_600)  // 2026-03-07T00:00:00Z
    var origin = Date()
    var speed = 7200.0
    var runs = 6
    var catchUp = CatchUpPolicy.runLatest
    var window: ScheduleWindow?
    var input: String?

    static func parse(_ arguments: [String]) throws -> ScheduleMode {
        var mode = ScheduleMode()
        var rest = arguments[...]
        if let first = rest.first, !first.hasPrefix("-") {
            guard ["demo", "run"].contains(first) else { throw DemoError("unknown schedule subcommand \(first)\n\n\(usage)") }
            mode.subcommand = first
            rest = rest.dropFirst()
        }
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw DemoError("\(flag) needs a value") }
            return next
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--help", "-h": throw DemoError.help
            case "--data-dir": mode.dataDirectory = try value(flag)
            case "--cron": mode.cron = try value(flag)
            case "--every":
                guard let seconds = Int64(try value(flag)) else { throw DemoError("--every needs whole seconds") }
                mode.recurrence = try ExportRecurrence.every(.seconds(seconds))
            case "--zone": mode.zone = try value(flag)
            case "--start", "--clock-start": mode.start = try RFC3339.parse(try value(flag))
            case "--clock-origin":
                guard let seconds = Double(try value(flag)) else { throw DemoError("--clock-origin needs Unix seconds") }
                mode.origin = Date(timeIntervalSince1970: seconds)
            case "--speed":
                guard let speed = Double(try value(flag)), speed >= 1 else { throw DemoError("--speed needs a number of at least 1") }
                mode.speed = speed
            case "--runs":
                guard let runs = Int(try value(flag)), runs >= 1 else { throw DemoError("--runs needs a whole number of at least 1") }
                mode.runs = runs
            case "--catch-up":
                guard let policy = CatchUpPolicy(named: try value(flag)) else { throw DemoError("--catch-up is runLatest or skip") }
                mode.catchUp = policy
            case "--window":
                guard let window = ScheduleWindow(named: try value(flag)) else { throw DemoError("--window is previousPeriod or sinceLastRun") }
                mode.window = window
            case "--input": mode.input = try value(flag)
            default: throw DemoError("unknown option \(flag)\n\n\(usage)")
            }
        }
        if mode.recurrence == nil { mode.recurrence = try ExportRecurrence.cron(mode.cron) }
        if mode.subcommand == "run", mode.input == nil { throw DemoError("schedule run needs --input FILE") }
        return mode
    }

    var clock: AcceleratedClock { AcceleratedClock(origin: origin, start: start, speed: speed) }

    /// A real-time duration as clock time.
    func real(_ duration: Duration) -> Duration { duration * speed }

    func backend() throws -> FileSystemBackend {
        let root = URL(fileURLWithPath: dataDirectory, isDirectory: true)
        return try FileSystemBackend(
            directory: root, linkSecret: try LinkSecretFile.loadOrCreate(root: root),
            linkBaseURL: URL(string: "http://localhost:8080/downloads")!,  // an example may assume a local host
            from: try EmailAddress(validating: "exports@example.com"), clock: clock)
    }

    func parts(_ backend: FileSystemBackend, source: any MembershipSource) throws -> (ExportScheduler, ExportWorker, Reconciler) {
        let scheduler = try ExportScheduler(ports: backend.ports, configuration: .init(lateness: real(.seconds(2))))
        let worker = try ExportWorker(
            ports: backend.ports, source: source,
            configuration: ExportWorker.Configuration(
                concurrency: 1, visibilityTimeout: real(.milliseconds(600)), receiveWaitTime: real(.milliseconds(100)),
                idleDelay: real(.milliseconds(50)), maximumReceiveBackoff: real(.seconds(1)),
                retryPolicy: RetryPolicy(maxAttempts: 50, baseDelay: real(.milliseconds(50)), maxDelay: real(.milliseconds(500))),
                pageSize: 100, shutdownGracePeriod: real(.seconds(2))))
        let reconciler = try Reconciler(ports: backend.ports, configuration: .init(requeueAfter: real(.seconds(1))))
        return (scheduler, worker, reconciler)
    }

    func run() async throws {
        switch subcommand {
        case "run": try await runParts()
        default: try await demo()
        }
    }

    /// Scheduler, worker and reconciler until a signal (or SIGKILL) ends the process.
    private func runParts() async throws {
        let backend = try backend()
        let source = try FileMembershipSource(fileURL: URL(fileURLWithPath: input ?? ""))
        let (scheduler, worker, reconciler) = try parts(backend, source: source)
        let signals = StopSignals()
        signals.install(program: "membership-export-demo schedule run", stopping: [worker])
        print("schedule run: pid \(getpid()), clock at \(RFC3339.string(clock.now()) ?? "?")")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await scheduler.run(every: real(.milliseconds(50))) }
            group.addTask { try await reconciler.run(every: real(.milliseconds(200))) }
            group.addTask { try await worker.run() }
            while signals.requested.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(50)) }
            group.cancelAll()
        }
    }

    private func demo() async throws {
        let backend = try backend()
        let source = SyntheticMembershipSource(seed: 42, users: 1, minimumRows: 200, maximumRows: 400)
        let owner = source.owners[0]
        let service = try ExportService(ports: backend.ports, configuration: .init(rateLimit: nil))
        let schedule = try await service.createSchedule(
            ScheduleRequest(
                owner: owner, name: "Demo schedule", recipient: DemoRecipient.address(for: owner), recurrence: recurrence!,
                timeZone: zone, catchUp: catchUp, window: window))
        func local(_ date: Date) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: zone)
            formatter.dateFormat = "yyyy-MM-dd HH:mm zzz"
            return formatter.string(from: date)
        }
        print("schedule \(schedule.id) for \(owner): \(schedule.recurrence) in \(zone), clock ×\(Int(speed)) from \(local(clock.now()))")
        print("first run due \(schedule.nextRunAt.map(local) ?? "never"); data in \(dataDirectory)")
        let (scheduler, worker, reconciler) = try parts(backend, source: source)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await scheduler.run(every: real(.milliseconds(50))) }
            group.addTask { try await reconciler.run(every: real(.milliseconds(500))) }
            group.addTask { try await worker.run() }
            var reported = Set<JobID>()
            var finished = 0
            while finished < runs {
                try await Task.sleep(for: .milliseconds(50))
                var cursor: PageCursor?
                var jobs: [ExportJob] = []
                repeat {
                    let page = try await backend.jobStore.list(owner: owner, after: cursor, limit: 100)
                    jobs += page.items
                    cursor = page.next
                } while cursor != nil
                for job in jobs.reversed() where job.scheduledRun?.scheduleID == schedule.id && job.state.isTerminal && job.lifecycle.notified {
                    guard reported.insert(job.id).inserted, let slot = job.scheduledRun?.slot else { continue }
                    finished += 1
                    let covering = job.options.range.map { ", covering \($0)" } ?? ""
                    print("run \(finished): slot \(local(slot)), job \(job.id) \(job.state.rawValue), \(job.rowsWritten) rows\(covering), e-mail outbox/\(job.id).ready.eml")
                }
            }
            let stored = try await service.schedule(schedule.id, requester: owner)
            print("done: \(stored.runCount) runs, next due \(stored.nextRunAt.map(local) ?? "never")")
            worker.shutdown()
            group.cancelAll()
        }
    }
}
