import ExampleSupport
import ExportAdapters
import ExportCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The whole flow: request one export per user, run workers until every job is finished, report.
struct DemoRun {
    let options: DemoOptions
    let backend: DemoBackend
    let statistics = DemoStatistics()

    var workerConfiguration: ExportWorker.Configuration {
        ExportWorker.Configuration(
            concurrency: 1, visibilityTimeout: options.visibilityTimeout, receiveWaitTime: .milliseconds(250),
            idleDelay: .milliseconds(100), retryPolicy: RetryPolicy(maxAttempts: options.maxAttempts, baseDelay: .milliseconds(200), maxDelay: .seconds(2)),
            pageSize: options.pageSize, csvOptions: CSVOptions(byteOrderMark: options.byteOrderMark), shutdownGracePeriod: .seconds(5),
            randomSeed: options.seed,
            checkpointRows: options.checkpointRows.map { $0 == 0 ? nil : $0 } ?? ExportWorker.Configuration().checkpointRows)
    }

    /// The repair pass's settings. A write abandoned for an hour is removed: long enough that the file
    /// a killed export's checkpoint names survives until the next attempt continues it (a sweep after a
    /// few seconds would make every attempt after a slow restart begin again from row zero).
    var reconcilerConfiguration: Reconciler.Configuration {
        .init(requeueAfter: options.visibilityTimeout * 2, abandonedWriteAge: max(options.visibilityTimeout * 4, .seconds(3600)))
    }

    func makeWorkers() throws -> [ExportWorker] {
        let ports = backend.ports(observer: statistics)
        return try (0..<options.workers).map { _ in
            try ExportWorker(ports: ports, source: backend.source, configuration: workerConfiguration)
        }
    }

    /// Requests (or, on a resumed data directory, finds) one job per user.
    func requestJobs(log: (String) -> Void) async throws -> (jobs: [JobID], resumed: Int) {
        let service = try ExportService(
            ports: backend.ports(observer: statistics),
            configuration: .init(
                defaultColumns: ExportColumn.standard + backend.attributeColumns.map(ExportColumn.attribute),
                attributeColumns: backend.attributeColumns, rateLimit: nil))
        var jobs: [JobID] = []
        var resumed = 0
        for owner in backend.owners {
            if let existing = try await backend.jobs.list(owner: owner, after: nil, limit: 1).items.first {
                jobs.append(existing.id)
                resumed += 1
                continue
            }
            let ticket = try await service.request(
                ExportRequest(owner: owner, recipient: DemoRecipient.address(for: owner), format: backend.format.identifier))
            jobs.append(ticket.jobID)
        }
        if resumed > 0 { log("resuming: \(resumed) of \(jobs.count) jobs were requested by an earlier run") }
        return (jobs, resumed)
    }

    /// Whether a job needs nothing more (terminal, and its e-mail sent when it needs one).
    static func isFinished(_ job: ExportJob) -> Bool {
        switch job.state {
        case .succeeded, .failed: job.lifecycle.notified
        case .cancelled: true
        default: false
        }
    }

    func run() async throws {
        let started = ContinuousClock.now
        let display = ProgressDisplay(quiet: options.quiet)
        for note in backend.notes { display.line(note) }
        let reconciler = try Reconciler(ports: backend.ports(observer: statistics), configuration: reconcilerConfiguration)
        // Jobs recorded by a killed run but never queued, and files it left half-written.
        _ = try? await reconciler.reconcile()
        let (jobIDs, _) = try await requestJobs(log: display.line)
        let waiting = try await currentJobs(jobIDs).filter { $0.state == .running }.count
        if waiting > 0 {
            display.line("\(waiting) job(s) were left running by a run that was killed: they resume once their lease runs out "
                + "(at most --visibility \(options.visibilityTimeout.components.seconds) s), so progress may pause until then")
        }
        display.line("exporting \(jobIDs.count) users with \(options.workers) workers (\(options.backend.rawValue) backend, \(backend.format))")

        let workers = try makeWorkers()
        let signals = StopSignals()
        signals.install(program: "membership-export-demo", stopping: workers)
        let reconcilerTask = Task { try await reconciler.run(every: options.visibilityTimeout) }
        let summary = try await withThrowingTaskGroup(of: Void.self) { group -> Summary? in
            for worker in workers { group.addTask { try await worker.run() } }
            defer {
                for worker in workers { worker.shutdown() }
                reconcilerTask.cancel()
            }
            while true {
                if signals.requested.withLock({ $0 }) != nil {
                    display.finish()
                    for worker in workers { worker.shutdown() }
                    try await group.waitForAll()
                    return nil
                }
                let jobs = try await currentJobs(jobIDs)
                let finished = jobs.filter(Self.isFinished).count
                let rows = jobs.reduce(Int64(0)) { $0 + ($1.result?.rows ?? 0) }
                    + statistics.counts.withLock { $0.rowsInProgress.values.reduce(0, +) }
                display.progress(done: finished, total: jobIDs.count, rows: rows, retried: statistics.counts.withLock { $0.retried })
                // Every export ended, but some e-mails cannot go out for a reason that waiting will not
                // fix (an outbox that is not writable, a rejected sender): say so instead of waiting.
                let stuck = jobs.filter { $0.notificationPending && $0.notificationFailure.map(Self.cannotHeal) == true }
                if !stuck.isEmpty, jobs.allSatisfy({ $0.state.isTerminal }), finished + stuck.count == jobIDs.count {
                    display.finish()
                    let failure = stuck[0].notificationFailure!
                    throw DemoError(
                        "\(stuck.count) export(s) finished but their e-mail cannot be sent (\(failure.code): \(failure.reason)). "
                            + "Fix that and run again with the same --data-dir: the e-mails go out once, nothing is exported again.")
                }
                if finished == jobIDs.count {
                    display.finish()
                    let elapsed = (statistics.counts.withLock { $0.lastFinish } ?? ContinuousClock.now) - started
                    let deadLetters = (try? await backend.queue.deadLetters(limit: 10_000).count) ?? 0
                    return Summary(jobs: jobs, retried: statistics.counts.withLock { $0.retried }, deadLetters: deadLetters, elapsed: elapsed,
                        rowsThisRun: statistics.counts.withLock { $0.rowsThisRun })
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        guard let summary else {
            Swift.print(statistics.handedBackLine(dataDirectory: options.dataDirectory))
            return
        }
        summary.print(backend: backend, quiet: options.quiet)
        if !options.quiet { try await printSampleMessage() }
    }

    /// Whether a recorded notification failure is one that retrying cannot fix.
    static func cannotHeal(_ failure: ExportFailure) -> Bool {
        ["permissionDenied", "permanent", "invalidRecipient", "configuration", "unauthorized", "notFound"].contains(failure.code)
    }

    func currentJobs(_ ids: [JobID]) async throws -> [ExportJob] {
        var jobs: [ExportJob] = []
        for id in ids { if let job = try await backend.jobs.get(id) { jobs.append(job) } }
        return jobs
    }

    func printSampleMessage() async throws {
        if let outbox = backend.outboxDirectory {
            let messages = ((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
            guard let first = messages.first else { return }
            let text = try String(contentsOf: outbox.appendingPathComponent(first), encoding: .utf8)
            Swift.print("\nSample e-mail (\(first)), headers and the decoded text part:\n")
            Swift.print(Self.readable(text))
        } else if let notifier = backend.memoryNotifier, let first = await notifier.sent.first {
            Swift.print("\nSample notification (in memory): to \(first.recipient), \(first.kind.rawValue)")
            if case .ready(let details) = first.content { Swift.print("  link: \(details.link)\n  expires: \(details.expiresAt)") }
            if case .failed(let reason) = first.content { Swift.print("  reason: \(reason)") }
        }
    }

    /// The headers of an .eml file plus its text/plain part, base64-decoded.
    static func readable(_ eml: String) -> String {
        let sections = eml.components(separatedBy: "\r\n\r\n")
        var out = (sections.first ?? "").replacingOccurrences(of: "\r\n", with: "\n") + "\n"
        if let index = sections.firstIndex(where: { $0.contains("text/plain") && $0.contains("base64") }), index + 1 < sections.count {
            let body = sections[index + 1].components(separatedBy: "\r\n").prefix { !$0.hasPrefix("--") }.joined()
            if let data = Data(base64Encoded: body) { out += "\n" + String(decoding: data, as: UTF8.self) }
        }
        return out
    }
}
