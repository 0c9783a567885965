import ExportAdapters
import ExportCore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Expiry is crash-safe: the demo's `reconcile` subcommand expires 300 finished exports of a real data
/// directory while it is killed with SIGKILL at random moments and started again. Once a run finishes
/// by itself, no file outlives its retention (nothing is left under `files/`) and every expired id is
/// still readable as a tombstone, so its download answers 410 rather than 404. A second stage, past
/// the tombstones' own retention, deletes every record and still leaves no file.
@Suite("Expiry under SIGKILL", .serialized)
struct ExpiryCrashTests {
    static let demo = CrashRecoveryTests.demo
    static let jobs = 300

    /// Runs `reconcile` processes, each killed after a random 15–120 ms unless it finished, until one
    /// exits 0 by itself. Blocking waits on a thread of its own (the peers are real processes).
    static func killLoop(dataDirectory: String, daysLater: Int, seed: UInt64, maximumKills: Int) async -> (kills: Int, finished: Bool) {
        await withCheckedContinuation { continuation in
            Thread {
                var random = CrashRecoveryTests.Generator(state: seed)
                var kills = 0
                let deadline = Date().addingTimeInterval(90)
                while Date() < deadline {
                    let process = Process()
                    process.executableURL = demo
                    process.arguments = [
                        "reconcile", "--data-dir", dataDirectory, "--days-later", String(daysLater), "--batch-size", "10", "--quiet",
                    ]
                    process.standardOutput = FileHandle.nullDevice
                    process.standardError = FileHandle.nullDevice
                    guard (try? process.run()) != nil else { break }
                    if kills < maximumKills {
                        Thread.sleep(forTimeInterval: Double.random(in: 0.015...0.12, using: &random))
                        if process.isRunning {
                            kill(process.processIdentifier, SIGKILL)
                            process.waitUntilExit()
                            kills += 1
                            continue
                        }
                    }
                    process.waitUntilExit()
                    if process.terminationReason == .exit && process.terminationStatus == 0 {
                        continuation.resume(returning: (kills, true))
                        return
                    }
                }
                continuation.resume(returning: (kills, false))
            }.start()
        }
    }

    static func regularFiles(under path: String) -> [String] {
        CrashRecoveryTests.files(under: path)
    }

    @Test("SIGKILLs during expiry leave no file past its retention and no expired id answering 404")
    func killedExpiry() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.demo.path), "build the demo first: swift build --build-tests")
        let directory = try TestDirectory("expiry-crash")
        defer { directory.remove() }
        let make = try RunningProcess(Self.demo, arguments: ["--data-dir", directory.path, "--users", String(Self.jobs), "--rows", "1-3", "--quiet"])
        let made = try await make.finish(seconds: 120)
        try #require(made.status == 0, "the demo did not prepare the data directory: \(made.output)")

        let store = try FileJobStore(directory: directory.sub("jobs"))
        var ids: [JobID] = []
        for name in directory.list("jobs/jobs") where name.hasSuffix(".json") {
            ids.append(try #require(JobID(String(name.dropLast(5)))))
        }
        try #require(ids.count == Self.jobs)
        let before = Self.regularFiles(under: directory.path + "/files/blobs")
        try #require(before.count == Self.jobs, "expected one file per job, found \(before.count)")

        // Stage one, eight days later: files deleted, records kept as tombstones. Killed at random.
        let first = await Self.killLoop(dataDirectory: directory.path, daysLater: 8, seed: 2026, maximumKills: 40)
        #expect(first.finished, "no reconcile run finished by itself")
        #expect(first.kills >= 20, "only \(first.kills) kills: the storm proves little")
        let orphans = Self.regularFiles(under: directory.path + "/files/blobs") + Self.regularFiles(under: directory.path + "/files/meta")
        #expect(orphans.isEmpty, "\(orphans.count) files outlived their retention: \(orphans.prefix(5))")
        var answering404: [JobID] = []
        for id in ids {
            // The download route answers 410 for a readable job that expired, 404 only for a missing one.
            guard let job = try await store.get(id), job.expiredAt != nil, job.state == .succeeded else {
                answering404.append(id)
                continue
            }
        }
        #expect(answering404.isEmpty, "\(answering404.count) expired ids would answer 404: \(answering404.prefix(5))")
        #expect(directory.list("jobs/corrupt").isEmpty && directory.list("jobs/tmp").isEmpty)

        // Stage two, past the tombstones' 30 days: the records go, and still no file is left.
        let second = await Self.killLoop(dataDirectory: directory.path, daysLater: 40, seed: 7, maximumKills: 5)
        #expect(second.finished)
        for id in ids {
            #expect(try await store.get(id) == nil, "tombstone \(id) outlived its retention")
        }
        #expect(Self.regularFiles(under: directory.path + "/files/blobs").isEmpty)
        print("expiry storm: \(first.kills) + \(second.kills) kills over \(ids.count) expired jobs")
    }
}
