import ExportAdapters
import ExportCore
import Foundation
import Synchronization
import Testing

/// A source that counts the rows it hands out and remembers the cursor of each call.
final class RowCountingSource: MembershipSource, Sendable {
    private let inner: any MembershipSource
    private let state = Mutex((rows: 0, cursors: [PageCursor?]()))

    init(_ inner: any MembershipSource) { self.inner = inner }

    var rowsRead: Int { state.withLock { $0.rows } }
    var firstCursor: PageCursor?? { state.withLock { $0.cursors.first } }

    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        let page = try await inner.memberships(of: owner, after: cursor, limit: limit)
        state.withLock {
            $0.rows += page.items.count
            $0.cursors.append(cursor)
        }
        return page
    }
}

/// The stop a test makes at a chosen checkpoint, standing in for a crash there.
struct StopHere: Error {}

/// Resumable exports at the runner: a run stopped after a checkpoint and continued from it writes
/// exactly the bytes, rows and checksum of an uninterrupted run, reading only what comes after it.
@Suite("Resumable exports")
struct ResumeTests {
    static func rows(_ count: Int, owner: UserID = "u1") -> [Membership] {
        let names = ["Acme, Inc.", "The \"Best\" Org", "Multi\nline", "Société", "北京", "=SUM(A1)"]
        return (0..<count).map { index in
            Membership(
                membershipID: "m\(index)", userID: owner, organizationID: "o\(index % 13)", organizationName: names[index % names.count],
                plan: index.isMultiple(of: 3) ? "pro" : "team", role: "member", status: "active",
                startedAt: Harness.t0.addingTimeInterval(Double(index) * 3600), amount: ExactDecimal(units: Int64(index) * 37, scale: 2),
                currency: "EUR")
        }
    }

    struct Run {
        var output: ExportRunner.Output
        var bytes: [UInt8]
        var checkpoints: [ExportCheckpoint]
        var rowsRead: Int
        var firstCursor: PageCursor??
    }

    /// One run through a fresh runner on `store`; `stopAfter` throws at that checkpoint (counted from 1).
    static func run(
        _ job: ExportJob, memberships: [Membership], store: InMemoryBlobStore, key: String, from checkpoint: ExportCheckpoint? = nil,
        every interval: Int? = 250, stopAfter: Int? = nil, pageSize: Int = 100
    ) async throws -> Run {
        let source = RowCountingSource(InMemoryMembershipSource(memberships))
        let runner = ExportRunner(source: source, blobStore: store, pageSize: pageSize, chunkSize: 1000)
        var checkpoints: [ExportCheckpoint] = []
        let output = try await runner.run(job, into: try BlobKey(validating: key), resumingFrom: checkpoint, checkpointRows: interval) { progress in
            if let made = progress.checkpoint {
                checkpoints.append(made)
                if checkpoints.count == stopAfter { throw StopHere() }
            }
        }
        let bytes = try #require(await store.contents(of: output.blob.key))
        return Run(output: output, bytes: bytes, checkpoints: checkpoints, rowsRead: source.rowsRead, firstCursor: source.firstCursor)
    }

    /// Stops a run at checkpoint `stopAfter` and returns that checkpoint and the rows the run had read.
    static func stopped(_ job: ExportJob, memberships: [Membership], store: InMemoryBlobStore, stopAfter: Int) async throws -> (ExportCheckpoint, Int) {
        let source = RowCountingSource(InMemoryMembershipSource(memberships))
        let runner = ExportRunner(source: source, blobStore: store, pageSize: 100, chunkSize: 1000)
        var saved: ExportCheckpoint?
        var count = 0
        await #expect(throws: StopHere.self) {
            _ = try await runner.run(job, into: try BlobKey(validating: "exports/first"), resumingFrom: nil, checkpointRows: 250) { progress in
                guard let made = progress.checkpoint else { return }
                count += 1
                saved = made
                if count == stopAfter { throw StopHere() }
            }
        }
        return (try #require(saved), source.rowsRead)
    }

    static func job(_ format: ExportFormat) async throws -> ExportJob {
        let harness = Harness(memberships: [])
        let ticket = try await harness.request(format: format.identifier)
        return try await harness.job(ticket.jobID)
    }

    @Test("stopped after a checkpoint and continued, the file, rows and checksum are the uninterrupted run's", arguments: [ExportFormat.csv, .csvGzip, .jsonLines])
    func byteForByte(_ format: ExportFormat) async throws {
        let memberships = Self.rows(2_345)
        let job = try await Self.job(format)
        let whole = try await Self.run(job, memberships: memberships, store: InMemoryBlobStore(), key: "exports/whole")
        #expect(whole.checkpoints.count == 7, "a checkpoint at the first page boundary after every 250 rows: 300, 600, … 2,100")
        for stop in [1, 4, 7] {
            let store = InMemoryBlobStore()
            let (checkpoint, _) = try await Self.stopped(job, memberships: memberships, store: store, stopAfter: stop)
            #expect(await store.openWriterCount == 1, "the stopped run keeps its partial file for the next attempt")
            // The checkpoint is stored in the job record as JSON: continue from a decoded copy.
            let stored = try JSONDecoder().decode(ExportCheckpoint.self, from: JSONEncoder().encode(checkpoint))
            let resumed = try await Self.run(job, memberships: memberships, store: store, key: "exports/second", from: stored)
            #expect(resumed.bytes == whole.bytes, "\(format.identifier), stopped at checkpoint \(stop)")
            #expect(resumed.output.sha256 == whole.output.sha256)
            #expect(resumed.output.rows == 2_345)
            #expect(resumed.output.blob.key.rawValue == "exports/first", "it finishes the file it continued")
            #expect(resumed.output.resumedAfterRow == checkpoint.rows)
            #expect(resumed.rowsRead == 2_345 - Int(checkpoint.rows), "only the rows after the checkpoint are read again")
            #expect(resumed.firstCursor == .some(checkpoint.cursor))
            #expect(await store.openWriterCount == 0)
            #expect(SHA256Hasher.hash(resumed.bytes).hexString == whole.output.sha256)
        }
    }

    @Test("a .csv.gz with checkpoints is one gzip file of several members that gzip -t and Python's gzip read as the CSV")
    func gzipMembers() async throws {
        let memberships = Self.rows(1_500)
        let gz = try await Self.run(try await Self.job(.csvGzip), memberships: memberships, store: InMemoryBlobStore(), key: "e/x.csv.gz")
        let csv = try await Self.run(try await Self.job(.csv), memberships: memberships, store: InMemoryBlobStore(), key: "e/x.csv")
        let members = (0..<(gz.bytes.count - 3)).filter { gz.bytes[$0] == 0x1f && gz.bytes[$0 + 1] == 0x8b && gz.bytes[$0 + 2] == 8 }
        #expect(members.count >= 5, "a member per checkpoint plus the last (found \(members.count) gzip headers)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resume-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("x.csv.gz")
        try Data(gz.bytes).write(to: file)
        func status(_ tool: String, _ arguments: [String], output: URL? = nil) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [tool] + arguments
            if let output { process.standardOutput = try FileHandle(forWritingTo: output) }
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(try status("gzip", ["-t", file.path]) == 0, "gzip -t")
        let inflated = directory.appendingPathComponent("x.csv")
        _ = FileManager.default.createFile(atPath: inflated.path, contents: nil)
        let script = "import gzip,sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())"
        #expect(try status("python3", ["-c", script, file.path], output: inflated) == 0)
        #expect(try Array(Data(contentsOf: inflated)) == csv.bytes, "Python's gzip reads every member, and the members hold the CSV")
    }

    @Test("a partial file still held by a writer, gone, or a corrupt hash state: the run starts afresh and is still exact")
    func unusableCheckpoint() async throws {
        let memberships = Self.rows(900)
        let job = try await Self.job(.csv)
        let whole = try await Self.run(job, memberships: memberships, store: InMemoryBlobStore(), key: "exports/whole")
        // Held: a writer that never suspended (a stalled worker still appending) keeps its file.
        let store = InMemoryBlobStore()
        let runner = ExportRunner(source: InMemoryMembershipSource(memberships), blobStore: store, pageSize: 100, chunkSize: 1000)
        let held = Mutex<ExportCheckpoint?>(nil)
        let stalled = Task {
            try await runner.run(job, into: try BlobKey(validating: "exports/stalled"), resumingFrom: nil, checkpointRows: 250) { progress in
                guard let made = progress.checkpoint else { return }
                held.withLock { $0 = made }
                try await Task.sleep(for: .seconds(3600))  // stalls inside the run, its writer open
            }
        }
        var checkpoint: ExportCheckpoint?
        while checkpoint == nil {
            try await Task.sleep(for: .milliseconds(5))
            checkpoint = held.withLock { $0 }
        }
        let fresh = try await Self.run(job, memberships: memberships, store: store, key: "exports/fresh", from: checkpoint)
        #expect(fresh.output.resumedAfterRow == nil && fresh.output.blob.key.rawValue == "exports/fresh")
        #expect(fresh.bytes == whole.bytes && fresh.rowsRead == 900)
        stalled.cancel()
        _ = await stalled.result
        // Gone, and corrupt: afresh as well.
        var gone = try #require(checkpoint)
        gone.upload.token = "999"
        var corrupt = try #require(checkpoint)
        corrupt.sha256.length += 1
        for bad in [gone, corrupt] {
            let again = try await Self.run(job, memberships: memberships, store: store, key: "exports/again", from: bad)
            #expect(again.output.resumedAfterRow == nil && again.bytes == whole.bytes)
        }
    }

    @Test("a 1M-row export stopped at 80% and continued reads at most 25% of its rows again (here about 2%)")
    func millionRows() async throws {
        let memberships = Self.rows(1_000_000)
        let job = try await Self.job(.csv)
        let store = InMemoryBlobStore()
        let source = RowCountingSource(InMemoryMembershipSource(memberships))
        let runner = ExportRunner(source: source, blobStore: store, pageSize: 1000)
        var last: ExportCheckpoint?
        await #expect(throws: StopHere.self) {
            _ = try await runner.run(job, into: try BlobKey(validating: "exports/big"), resumingFrom: nil, checkpointRows: 50_000) { progress in
                if let made = progress.checkpoint { last = made }
                if progress.rows >= 820_000 { throw StopHere() }  // killed at 82%, past the checkpoint at 800,000
            }
        }
        let checkpoint = try #require(last)
        let second = RowCountingSource(InMemoryMembershipSource(memberships))
        let output = try await ExportRunner(source: second, blobStore: store, pageSize: 1000).run(
            job, into: try BlobKey(validating: "exports/big-2"), resumingFrom: checkpoint, checkpointRows: 50_000) { _ in }
        let reread = source.rowsRead + second.rowsRead - 1_000_000
        #expect(output.rows == 1_000_000 && output.resumedAfterRow == checkpoint.rows)
        #expect(reread <= 250_000, "read \(reread) rows twice")
        print("1M-row export stopped at 80%: the first run read \(source.rowsRead) rows, the resumed one \(second.rowsRead); \(reread) read twice (\(Double(reread) / 10_000)%)")
        let bytes = try #require(await store.contents(of: output.blob.key))
        #expect(SHA256Hasher.hash(bytes).hexString == output.sha256)
    }
}
