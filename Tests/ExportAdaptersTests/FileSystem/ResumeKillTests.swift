import ExportAdapters
import ExportCore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One large export, its worker process SIGKILLed 30 times mid-export and replaced: every attempt
/// after a kill continues the file from the last checkpoint (the file that attempt 1 or so began), and
/// the finished `.csv.gz` is byte for byte the file of an uninterrupted export with the same settings.
///
/// The worker is a real process (the demo's `worker` subcommand), so this test waits on real time.
@Suite("Resume across SIGKILLs", .serialized)
struct ResumeKillTests {
    static let rows = 60_000
    static let kills = 30
    static let pageSize = 100
    static let checkpointRows = 300

    /// One user's memberships, with values that need quoting.
    static func membershipFile(rows: Int) -> String {
        let names = ["Acme, Inc.", "The \"Best\" Org", "Multi\nline", "Société", "北京", "plain"]
        var lines = ["membership_id,user_id,organization_id,organization_name,plan,role,status,started_at,ended_at,renews_at,amount,currency"]
        lines.reserveCapacity(rows + 1)
        for index in 0..<rows {
            let name = names[index % names.count].replacingOccurrences(of: "\"", with: "\"\"")
            lines.append("m-\(String(format: "%07d", index)),user-1,org-\(index % 97),\"\(name)\",pro,member,active,2024-01-\(String(format: "%02d", index % 28 + 1))T08:00:00Z,,,\(index % 1000).50,EUR")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func spawn(_ directory: TestDirectory, input: String) throws -> Process {
        let process = Process()
        process.executableURL = CrashRecoveryTests.demo
        process.arguments = [
            "worker", "--data-dir", directory.path, "--input", input, "--workers", "1", "--visibility", "1", "--max-attempts", "5",
            "--page-size", "\(pageSize)", "--page-delay", "50", "--checkpoint-rows", "\(checkpointRows)", "--quiet",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test("30 SIGKILLs during one 60,000-row csv.gz export: it resumes each time and ends with the exact file")
    func killLoop() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.demo.path), "build the demo first: swift build --build-tests")
        let began = Date()
        let directory = try TestDirectory("resume-kill")
        defer { directory.remove() }
        let input = directory.path + "/members.csv"
        try directory.write(Self.membershipFile(rows: Self.rows), to: "members.csv")
        let source = try FileMembershipSource(fileURL: URL(fileURLWithPath: input))
        let jobs = try FileJobStore(directory: directory.sub("jobs"))
        let service = try ExportService(
            ports: ExportPorts(jobStore: jobs, queue: try FileQueue(directory: directory.sub("queue")), blobStore: InMemoryBlobStore(), notifier: InMemoryNotifier()),
            configuration: .init(rateLimit: nil))
        let id = try await service.request(ExportRequest(owner: "user-1", recipient: EmailAddress("user-1@example.com")!, format: "csv.gz")).jobID

        // The loop runs on a thread of its own: it waits on a real process and must not starve.
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<(kills: Int, resumedFrom: [Int64], finished: Bool), Never>) in
            Thread {
                var kills = 0
                var resumedFrom: [Int64] = []
                var lastAttempt = 0
                var random = CrashRecoveryTests.Generator(state: 16)
                func job() -> ExportJob? { try? RFC3339.recordDecoder().decode(ExportJob.self, from: Data(contentsOf: URL(fileURLWithPath: "\(directory.path)/jobs/jobs/\(id.rawValue).json"))) }
                let deadline = Date().addingTimeInterval(240)
                while kills < Self.kills, Date() < deadline {
                    guard let worker = try? Self.spawn(directory, input: input) else { break }
                    // Wait for the attempt this process claims, then kill it a moment into the export.
                    var claimed: ExportJob?
                    while claimed == nil, worker.isRunning, Date() < deadline {
                        Thread.sleep(forTimeInterval: 0.01)
                        if let current = job(), current.state == .running, current.attempt > lastAttempt { claimed = current }
                        if let current = job(), current.state.isTerminal { break }
                    }
                    guard let attempt = claimed else {
                        kill(worker.processIdentifier, SIGKILL)
                        worker.waitUntilExit()
                        break
                    }
                    lastAttempt = attempt.attempt
                    resumedFrom.append(attempt.rowsWritten)
                    Thread.sleep(forTimeInterval: Double.random(in: 0.3...0.7, using: &random))
                    kill(worker.processIdentifier, SIGKILL)
                    worker.waitUntilExit()
                    kills += 1
                }
                // The last worker runs the rest undisturbed.
                var finished = false
                if let worker = try? Self.spawn(directory, input: input) {
                    let end = Date().addingTimeInterval(120)
                    while Date() < end {
                        if let current = job(), current.state.isTerminal, current.lifecycle.notified {
                            finished = true
                            break
                        }
                        Thread.sleep(forTimeInterval: 0.05)
                    }
                    kill(worker.processIdentifier, SIGKILL)
                    worker.waitUntilExit()
                }
                continuation.resume(returning: (kills, resumedFrom, finished))
            }.start()
        }
        #expect(outcome.kills == Self.kills, "only \(outcome.kills) kills landed mid-export")
        try #require(outcome.finished, "the export did not finish after the kills")
        let finished = try #require(try await jobs.get(id))
        #expect(finished.state == .succeeded && finished.checkpoint == nil)
        #expect(finished.attempt > Self.kills)
        let result = try #require(finished.result)
        // Every attempt after the first few continued the same file, so it is the file an early attempt
        // began (a run that restarted from row zero would finish under the last attempt's key).
        let firstAttempt = try #require(Int(result.blobKey.rawValue.split(separator: "-").last?.split(separator: ".").first ?? ""))
        #expect(firstAttempt <= 5, "the file was begun by attempt \(firstAttempt) of \(finished.attempt): the attempts did not continue it")
        // Progress carried over: the attempts started further and further in.
        let advancing = zip(outcome.resumedFrom, outcome.resumedFrom.dropFirst()).filter { $0.1 > $0.0 }.count
        #expect(advancing >= Self.kills / 2, "attempts started at \(outcome.resumedFrom)")

        // The exact file: an uninterrupted export with the same page size and checkpoints.
        let blobs = try FileBlobStore(configuration: .init(directory: directory.sub("files"), linkSecret: Array(repeating: 7, count: 32), linkBaseURL: FSFixtures.linkBase))
        var stored: [UInt8] = []
        for try await chunk in try await blobs.read(result.blobKey) { stored += chunk }
        let memory = InMemoryBlobStore()
        let reference = try await ExportRunner(source: source, blobStore: memory, pageSize: Self.pageSize).run(
            finished, into: try BlobKey(validating: "reference.csv.gz"), resumingFrom: nil, checkpointRows: Self.checkpointRows) { _ in }
        let expected = try #require(await memory.contents(of: reference.blob.key))
        #expect(stored == expected, "\(stored.count) bytes stored, \(expected.count) expected")
        #expect(result.sha256 == reference.sha256 && result.rows == Int64(Self.rows))
        #expect(directory.list("files/tmp").isEmpty, "left in tmp: \(directory.list("files/tmp"))")
        print("resume kill loop: \(outcome.kills) kills, \(finished.attempt) attempts, file begun by attempt \(firstAttempt), attempts started at rows \(outcome.resumedFrom), \(Int(Date().timeIntervalSince(began))) s")
    }
}
