import ExportAdapters
import ExportCore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Worker processes on one data directory, killed with SIGKILL at random moments and replaced, must
/// still finish every job exactly once, by themselves (the in-process drain afterwards may only
/// acknowledge leftover leases): one e-mail per job whose link verifies with the data directory's
/// secret, no temp files left even before this test cleans anything, nothing moved to `corrupt/`,
/// exactly the blobs the job records name, and every file byte-identical to an export made in memory.
///
/// The workers are real processes (the demo executable's `worker` subcommand), so this test waits on
/// real time while they run: that is the one place where a peer process makes sleeping unavoidable.
@Suite("Crash recovery across processes", .serialized)
struct CrashRecoveryTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let demo = packageRoot.appendingPathComponent(".build/debug/membership-export-demo")
    static let columns = ExportColumn.standard + [.attribute("seat_count")]
    /// How long the worker processes get to finish every job of one seed (a seed takes 11-15 s on a
    /// 2-core machine; three seeds must stay under two minutes in CI).
    static let timeLimit: TimeInterval = 35
    /// How many times workers are killed per seed (each round one worker or all of them).
    static let killRounds = 6

    /// Every regular file below a directory, as paths relative to it, sorted.
    static func files(under root: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(relative)
            }
        }
        return files.sorted()
    }

    /// The download link in the base64 text part of an `.eml`.
    static func link(inEmail eml: String) -> URL? {
        let sections = eml.components(separatedBy: "\r\n\r\n")
        guard let index = sections.firstIndex(where: { $0.contains("text/plain") && $0.contains("base64") }), index + 1 < sections.count else {
            return nil
        }
        let body = sections[index + 1].components(separatedBy: "\r\n").prefix { !$0.hasPrefix("--") }.joined()
        guard let data = Data(base64Encoded: body) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.components(separatedBy: .newlines).first(where: { $0.hasPrefix("http") }) else { return nil }
        return URL(string: line.trimmingCharacters(in: .whitespaces))
    }

    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A membership CSV with awkward values (quotes, commas, newlines, formulas, non-ASCII).
    static func membershipFile(users: Int, using random: inout Generator) -> String {
        let names = ["Acme, Inc.", "The \"Best\" Org", "=HYPERLINK(\"x\")", "Multi\nline", "Société", "北京", "+plus", "plain"]
        var lines = ["membership_id,user_id,organization_id,organization_name,plan,role,status,started_at,ended_at,renews_at,amount,currency,seat_count"]
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        for user in 1...users {
            for index in 0..<Int.random(in: 300...3000, using: &random) {
                let name = names[Int.random(in: 0..<names.count, using: &random)]
                let started = 1_500_000_000 + Int.random(in: 0...200_000_000, using: &random)
                let date = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(started)))
                let amount = Bool.random(using: &random) ? "\(Int.random(in: 0...99_999, using: &random)).\(Int.random(in: 10...99, using: &random))" : ""
                lines.append(
                    "m-\(String(format: "%06d", index)),user-\(user),org-\(index % 97),\(quoted(name)),pro,member,active,\(date),,,\(amount),\(amount.isEmpty ? "" : "EUR"),\(index % 13)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Both durability settings promise that a killed process loses no acknowledged change; the
    /// workers run with each (`--durability`), two seeds apiece.
    @Test(
        "SIGKILLed workers: every job succeeds once, one e-mail each, files identical to the in-memory reference",
        arguments: [(UInt64(11), "power-loss"), (2026, "power-loss"), (7, "process-crash"), (2026, "process-crash")])
    func killedWorkers(seed: UInt64, durability: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.demo.path), "build the demo first: swift build --build-tests")
        let began = Date()
        let directory = try TestDirectory("crash")
        defer { directory.remove() }
        var random = Generator(state: seed)
        let input = directory.path + "/members.csv"
        try directory.write(Self.membershipFile(users: 12, using: &random), to: "members.csv")
        let source = try FileMembershipSource(fileURL: URL(fileURLWithPath: input))

        let jobs = try FileJobStore(directory: directory.sub("jobs"))
        let queue = try FileQueue(directory: directory.sub("queue"))
        let service = try ExportService(
            ports: ExportPorts(jobStore: jobs, queue: queue, blobStore: InMemoryBlobStore(), notifier: InMemoryNotifier()),
            configuration: .init(defaultColumns: Self.columns, attributeColumns: ["seat_count"], rateLimit: nil))
        var ids: [JobID] = []
        for owner in source.owners {
            ids.append(try await service.request(ExportRequest(owner: owner, recipient: EmailAddress("\(owner.rawValue)@example.com")!)).jobID)
        }

        // Three workers, killed with SIGKILL at random moments and replaced (see `KillLoop`). The loop runs
        // on a thread of its own: on the cooperative pool, other suites' blocking work could starve it
        // while the children finish everything unobserved.
        let run = await KillLoop(
            demo: Self.demo, dataDirectory: directory.path, input: input, durability: durability, ids: ids, random: random,
            timeLimit: Self.timeLimit, rounds: Self.killRounds
        ).runOnThread()
        let (kills, rounds) = (run.kills, run.rounds)
        // The worker processes alone must have finished every job: nothing below exports anything.
        let finishedByChildren = run.finished
        #expect(finishedByChildren, "the worker processes did not finish every job within \(Self.timeLimit) s")
        try #require(finishedByChildren)
        #expect(rounds >= 1 && kills >= 3, "the run ended before enough workers were killed to mean anything")

        // Before any clean-up by this test: the processes left no temp file behind (each replacement
        // removes what the killed one left when it opens the stores), and nothing was moved aside.
        for temporary in ["files/tmp", "jobs/tmp", "queue/tmp", "outbox/.tmp", "jobs/corrupt", "queue/corrupt"] {
            #expect(directory.list(temporary).isEmpty, "\(temporary): \(directory.list(temporary))")
        }
        var finished: [ExportJob] = []
        for id in ids { finished.append(try #require(try await jobs.get(id))) }
        #expect(finished.allSatisfy { $0.state == .succeeded && $0.lifecycle.notified }, "\(finished.map { "\($0.id): \($0.state)" })")
        // files/blobs holds exactly the files the job records name (whatever the key shape), and meta/ theirs.
        let keys = try finished.map { try #require($0.result).blobKey.rawValue }.sorted()
        #expect(Self.files(under: directory.path + "/files/blobs") == keys)
        #expect(Self.files(under: directory.path + "/files/meta") == keys.map { $0 + ".json" })

        // Messages whose worker was killed after finishing the job but before acknowledging are still
        // leased; a later worker (here in-process, on a clock past every lease) only acknowledges them.
        let later = ManualClock(now: Date().addingTimeInterval(60))
        let blobs = try FileBlobStore(configuration: .init(directory: directory.sub("files"), linkSecret: Array(repeating: 7, count: 32), linkBaseURL: FSFixtures.linkBase))
        let drain = try ExportWorker(
            ports: ExportPorts(
                jobStore: jobs, queue: try FileQueue(directory: directory.sub("queue"), clock: later), blobStore: blobs,
                notifier: try OutboxNotifier(directory: directory.sub("outbox"), from: EmailAddress("x@example.com")!, clock: later),
                clock: later),
            source: source)
        var leftovers = 0
        while true {
            let handled = try await drain.processAvailable()
            if handled == 0 { break }
            leftovers += handled
        }
        // The drain did no export work: every record is as the processes left it.
        var afterDrain: [ExportJob] = []
        for id in ids { afterDrain.append(try #require(try await jobs.get(id))) }
        #expect(afterDrain == finished, "the in-process drain changed job records")

        // One e-mail per job, and each one's link verifies with the data directory's secret and names
        // the job's file.
        let emails = directory.list("outbox").filter { $0.hasSuffix(".eml") }
        #expect(emails == ids.map { "\($0).ready.eml" }.sorted())
        let secret = try #require(Hex.decode(try directory.read("link-secret").trimmingCharacters(in: .whitespacesAndNewlines)))
        let signer = DownloadLinkSigner(secret: secret, baseURL: URL(string: "http://localhost:8080/downloads")!)
        for job in finished {
            let eml = try directory.read("outbox/\(job.id).ready.eml")
            let link = try #require(Self.link(inEmail: eml), "no link in the e-mail of \(job.id)")
            let verified = try signer.verify(link, now: Date())
            #expect(verified.key == job.result?.blobKey)
        }
        #expect(directory.list("queue/ready").isEmpty && directory.list("queue/leased").isEmpty && directory.list("queue/dead").isEmpty)

        // Every file is complete and identical to an in-memory export of the same job.
        for job in finished {
            let result = try #require(job.result)
            var stored: [UInt8] = []
            for try await chunk in try await blobs.read(result.blobKey) { stored += chunk }
            let memory = InMemoryBlobStore()
            _ = try await ExportRunner(source: source, blobStore: memory).run(job, into: result.blobKey) { _ in }
            let reference = try #require(await memory.contents(of: result.blobKey))
            #expect(stored == reference, "job \(job.id): \(stored.count) bytes stored, \(reference.count) expected")
            #expect(Int64(stored.count) == result.bytes)
            #expect(SHA256Hasher.hash(stored).hexString == result.sha256)
        }
        let attempts = finished.reduce(0) { $0 + $1.attempt }
        #expect(attempts > ids.count, "no kill interrupted an export, so no takeover was exercised")
        print("seed \(seed), \(durability): \(kills) workers killed, \(attempts) attempts for \(ids.count) jobs, \(leftovers) leftover deliveries, \(Date().timeIntervalSince(began)) s")
    }
}

