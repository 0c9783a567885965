import ExportCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The crash test's worker processes and their killer, on a thread of its own.
///
/// Three demo `worker` processes share one data directory. A kill round is only fired while an attempt
/// claimed since the last round is running (a live worker is mid-export: a killed worker's job stays
/// `running` until its lease runs out, so only new attempts count), so kills interrupt exports however
/// fast or slow this machine is. Odd rounds (the first among them) kill every worker, which is certain
/// to interrupt the export that was seen; even rounds kill one at random. Killed workers are replaced.
///
/// Job records are read straight from their files with blocking calls, and the loop sleeps its thread:
/// it waits on real processes, and must keep watching even while the concurrency pool is busy.
struct KillLoop: Sendable {
    struct Outcome: Sendable {
        var kills = 0
        var rounds = 0
        /// Whether the processes finished (and notified) every job before the time limit.
        var finished = false
    }

    let demo: URL
    let dataDirectory: String
    let input: String
    /// The workers' `--durability` (`power-loss` or `process-crash`).
    let durability: String
    let ids: [JobID]
    var random: CrashRecoveryTests.Generator
    let timeLimit: TimeInterval
    let rounds: Int

    /// Runs the loop on a new thread and returns once every worker process has exited.
    func runOnThread() async -> Outcome {
        await withCheckedContinuation { continuation in
            let loop = self
            Thread {
                var copy = loop
                continuation.resume(returning: copy.run())
            }.start()
        }
    }

    private func spawnWorker() -> Process? {
        let process = Process()
        process.executableURL = demo
        process.arguments = [
            "worker", "--data-dir", dataDirectory, "--input", input, "--workers", "1", "--visibility", "2", "--max-attempts", "50",
            "--page-size", "200", "--page-delay", "100", "--durability", durability, "--quiet",
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

    /// The job's record as stored, or `nil` while it cannot be read.
    private func job(_ id: JobID) -> ExportJob? {
        guard let data = FileManager.default.contents(atPath: "\(dataDirectory)/jobs/jobs/\(id.rawValue).json") else { return nil }
        return try? RFC3339.recordDecoder().decode(ExportJob.self, from: data)  // the store's own coding: RFC 3339 dates
    }

    private func allFinished() -> Bool {
        ids.allSatisfy { id in job(id).map { $0.state.isTerminal && $0.lifecycle.notified } ?? false }
    }

    private func runningAttempts() -> Set<String> {
        Set(ids.compactMap { id in job(id).flatMap { $0.state == .running ? "\(id)#\($0.attempt)" : nil } })
    }

    private mutating func run() -> Outcome {
        var outcome = Outcome()
        var workers = (0..<3).compactMap { _ in spawnWorker() }
        var seen = Set<String>()
        let deadline = Date().addingTimeInterval(timeLimit)
        var nextKill = Date().addingTimeInterval(Double.random(in: 0.1...0.5, using: &random))
        while !allFinished(), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            let running = outcome.rounds < rounds && Date() >= nextKill ? runningAttempts() : []
            if !running.isSubset(of: seen) {
                outcome.rounds += 1
                seen.formUnion(running)
                let live = workers.indices.filter { workers[$0].isRunning }
                let victims = outcome.rounds.isMultiple(of: 2) ? live.randomElement(using: &random).map { [$0] } ?? [] : live
                for index in victims {
                    kill(workers[index].processIdentifier, SIGKILL)
                    workers[index].waitUntilExit()
                    outcome.kills += 1
                }
                nextKill = Date().addingTimeInterval(Double.random(in: 0.1...0.6, using: &random))
            }
            for index in workers.indices where !workers[index].isRunning {
                if let replacement = spawnWorker() { workers[index] = replacement }
            }
        }
        outcome.finished = allFinished()
        for worker in workers {
            let exitBy = Date().addingTimeInterval(10)
            while worker.isRunning && Date() < exitBy { Thread.sleep(forTimeInterval: 0.05) }
            if worker.isRunning { kill(worker.processIdentifier, SIGKILL) }
            worker.waitUntilExit()
        }
        return outcome
    }
}
