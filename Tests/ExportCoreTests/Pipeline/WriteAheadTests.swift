import ExportAdapters
import ExportCore
import ExportTestSupport
import Foundation
import Synchronization
import Testing

/// A blob store whose writer holds its first checkpoint (a durable flush that takes a while) until
/// ``release()``, and records how many bytes were appended at each checkpoint.
final class HeldCheckpointStore: ForwardingBlobStore, Sendable {
    private struct State {
        var held = false
        var released = false
        var waiter: CheckedContinuation<Void, Never>?
        var appended = 0
        var appendedAtCheckpoints: [Int] = []
    }

    let base = InMemoryBlobStore()
    var inner: any BlobStore { base }
    private let state = Mutex(State())
    private let timeout: Duration
    private let everyCheckpoint: Duration?

    /// - Parameters:
    ///   - timeout: When the held checkpoint lets go by itself if nobody released it.
    ///   - everyCheckpoint: Instead of holding the first checkpoint, make every one take this long.
    init(timeout: Duration, everyCheckpoint: Duration? = nil) {
        self.timeout = timeout
        self.everyCheckpoint = everyCheckpoint
    }

    /// Whether the writer is inside its held checkpoint now.
    var isHeld: Bool { state.withLock { $0.held } }
    var appended: Int { state.withLock { $0.appended } }
    var appendedAtCheckpoints: [Int] { state.withLock { $0.appendedAtCheckpoints } }

    /// Lets the held checkpoint finish (once; later calls do nothing).
    func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.released = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    fileprivate func appendedBytes(_ count: Int) { state.withLock { $0.appended += count } }

    fileprivate func checkpointing() async {
        let first = state.withLock { state -> Bool in
            state.appendedAtCheckpoints.append(state.appended)
            return state.appendedAtCheckpoints.count == 1
        }
        if let everyCheckpoint {
            try? await Task.sleep(for: everyCheckpoint)
            return
        }
        guard first else { return }
        let timeout = timeout
        Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.release()
        }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let resume = state.withLock { state -> Bool in
                if state.released { return true }
                state.held = true
                state.waiter = waiter
                return false
            }
            if resume { waiter.resume() }
        }
        state.withLock { $0.held = false }
    }

    struct Writer: BlobWriter {
        let inner: any BlobWriter
        let store: HeldCheckpointStore
        func append(_ bytes: [UInt8]) async throws {
            try await inner.append(bytes)
            store.appendedBytes(bytes.count)
        }
        func finish() async throws -> BlobMetadata { try await inner.finish() }
        func abort() async throws { try await inner.abort() }
        func checkpoint() async throws -> BlobResumePoint? {
            await store.checkpointing()
            return try await inner.checkpoint()
        }
        func suspend() async throws { try await inner.suspend() }
    }

    func beginWrite(key: BlobKey, contentType: String) async throws -> any BlobWriter {
        Writer(inner: try await base.beginWrite(key: key, contentType: contentType), store: self)
    }
}

/// A source that counts the pages it serves while the store's checkpoint is held, and releases it
/// after `releaseAfter` of them (never, for `nil`).
final class WhileHeldSource: MembershipSource, Sendable {
    private let inner: any MembershipSource
    private let store: HeldCheckpointStore
    private let releaseAfter: Int?
    private let served = Mutex(0)

    init(_ inner: any MembershipSource, store: HeldCheckpointStore, releaseAfter: Int?) {
        self.inner = inner
        self.store = store
        self.releaseAfter = releaseAfter
    }

    var servedWhileHeld: Int { served.withLock { $0 } }

    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        if store.isHeld {
            let count = served.withLock { count -> Int in
                count += 1
                return count
            }
            if let releaseAfter, count >= releaseAfter { store.release() }
        }
        return try await inner.memberships(of: owner, after: cursor, limit: limit)
    }
}

/// The runner's write-ahead: while the blob writer makes a checkpoint durable, encoding goes on for up
/// to `maxPendingBytes`, never further, and nothing is appended past a checkpoint before `progress`
/// has recorded it.
@Suite("Encoding goes on while the writer is busy")
struct WriteAheadTests {
    static let pageSize = 10
    static let rowCount = 2_000

    struct Run {
        var bytes: [UInt8]
        var servedWhileHeld: Int
        /// Bytes appended when each checkpoint was made, and when `progress` received it.
        var atCheckpoints: [Int]
        var atProgress: [Int]
        /// Bytes appended while `progress` was recording a checkpoint (must be 0).
        var appendedWhileRecording: Int
    }

    static func reference(_ job: ExportJob, _ memberships: [Membership]) async throws -> [UInt8] {
        let store = InMemoryBlobStore()
        let runner = ExportRunner(source: InMemoryMembershipSource(memberships), blobStore: store, pageSize: pageSize)
        let output = try await runner.run(job, into: try BlobKey(validating: "exports/reference"), resumingFrom: nil, checkpointRows: 50) { _ in }
        return try #require(await store.contents(of: output.blob.key))
    }

    static func run(
        _ job: ExportJob, _ memberships: [Membership], maxPendingBytes: Int, releaseAfter: Int?, timeout: Duration
    ) async throws -> Run {
        let store = HeldCheckpointStore(timeout: timeout)
        let source = WhileHeldSource(InMemoryMembershipSource(memberships), store: store, releaseAfter: releaseAfter)
        let runner = ExportRunner(source: source, blobStore: store, pageSize: pageSize, maxPendingBytes: maxPendingBytes)
        var atProgress: [Int] = []
        var appendedMeanwhile = 0
        let output = try await runner.run(job, into: try BlobKey(validating: "exports/held"), resumingFrom: nil, checkpointRows: 50) { progress in
            guard progress.checkpoint != nil else { return }
            let entry = store.appended
            atProgress.append(entry)
            // Recording a checkpoint takes a while (a job-store write): nothing may be appended meanwhile.
            try await Task.sleep(for: .milliseconds(1))
            appendedMeanwhile += store.appended - entry
        }
        let bytes = try #require(await store.base.contents(of: output.blob.key))
        return Run(
            bytes: bytes, servedWhileHeld: source.servedWhileHeld, atCheckpoints: store.appendedAtCheckpoints, atProgress: atProgress,
            appendedWhileRecording: appendedMeanwhile)
    }

    @Test("a held checkpoint does not hold the encoder: it goes on reading and encoding pages", arguments: [ExportFormat.csv, .csvGzip])
    func goesOn(_ format: ExportFormat) async throws {
        let memberships = ResumeTests.rows(Self.rowCount)
        let job = try await ResumeTests.job(format)
        let reference = try await Self.reference(job, memberships)
        // Released by the source once 20 pages were served meanwhile; by a timeout (a failure) otherwise.
        let run = try await Self.run(job, memberships, maxPendingBytes: 4 * 1024 * 1024, releaseAfter: 20, timeout: .seconds(20))
        #expect(run.servedWhileHeld >= 20, "pages read while the writer held its checkpoint: \(run.servedWhileHeld)")
        #expect(run.bytes == reference, "the same file as a run whose writer was never slow")
        #expect(run.atCheckpoints.count == Self.rowCount / 50 - 1)
        #expect(run.atProgress == run.atCheckpoints, "nothing was appended past a checkpoint before progress recorded it")
        #expect(run.appendedWhileRecording == 0)
    }

    @Test("what waits for a busy writer is bounded by maxPendingBytes")
    func bounded() async throws {
        let memberships = ResumeTests.rows(Self.rowCount)
        let job = try await ResumeTests.job(.csv)
        let reference = try await Self.reference(job, memberships)
        let pageBytes = reference.count / (Self.rowCount / Self.pageSize)
        let limit = 8 * pageBytes
        // Never released by the source: the checkpoint lets go after 300 ms, long enough for an
        // unbounded runner to read every page of the export.
        let run = try await Self.run(job, memberships, maxPendingBytes: limit, releaseAfter: nil, timeout: .milliseconds(300))
        // Waiting: the limit's pages (one more, as the one that reaches it), plus the page encoded and
        // the page fetched meanwhile, and one for pages a little under the average.
        #expect(run.servedWhileHeld <= 8 + 4, "pages read while the writer held its checkpoint: \(run.servedWhileHeld)")
        #expect(run.servedWhileHeld >= 4, "it went ahead at all")
        #expect(run.bytes == reference)
        #expect(run.atProgress == run.atCheckpoints)
    }

    /// A source whose rows grow (10 to 2,009 letters of organization name; ids in the order
    /// `InMemoryMembershipSource` sorts them) and that records, at each call, how many pages it had
    /// served and how many bytes the store had appended.
    final class LagSource: MembershipSource, Sendable {
        let store: HeldCheckpointStore
        let memberships: [Membership]
        let calls = Mutex<[(pages: Int, appended: Int)]>([])

        init(store: HeldCheckpointStore, rows: Int) {
            self.store = store
            memberships = (0..<rows).map { index in
                Membership(
                    membershipID: "m" + String(10_000 + index), userID: "u1", organizationID: "o1",
                    organizationName: String(repeating: "x", count: 10 + index),
                    plan: "pro", role: "member", status: "active", startedAt: Harness.t0)
            }
        }

        func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
            let start = cursor.flatMap { Int($0.token) } ?? 0
            calls.withLock { $0.append((pages: start / limit, appended: store.appended)) }
            let end = min(memberships.count, start + limit)
            return Page(items: Array(memberships[start..<end]), next: end < memberships.count ? PageCursor(String(end)) : nil)
        }
    }

    @Test("with a checkpoint on every page and pages that grow, what waits for a slow writer stays within maxPendingBytes")
    func boundedAsPagesGrow() async throws {
        let job = try await ResumeTests.job(.csv)
        let store = HeldCheckpointStore(timeout: .seconds(20), everyCheckpoint: .milliseconds(3))
        let source = LagSource(store: store, rows: Self.rowCount)
        let reference = InMemoryBlobStore()
        let whole = try await ExportRunner(source: InMemoryMembershipSource(source.memberships), blobStore: reference, pageSize: Self.pageSize)
            .run(job, into: try BlobKey(validating: "exports/reference"), resumingFrom: nil, checkpointRows: nil) { _ in }
        let bytes = try #require(await reference.contents(of: whole.blob.key))
        // Where each page ends in the file: after the header line and 10 more lines per page.
        let lineEnds = bytes.indices.filter { bytes[$0] == UInt8(ascii: "\n") }.map { $0 + 1 }
        let pages = Self.rowCount / Self.pageSize
        let offsets = (0...pages).map { lineEnds[$0 * Self.pageSize] }
        let firstPage = offsets[1] - offsets[0]
        let lastPage = offsets[pages] - offsets[pages - 1]
        #expect(lastPage > 15 * firstPage, "the pages grow")
        let limit = 8 * firstPage

        let runner = ExportRunner(source: source, blobStore: store, pageSize: Self.pageSize, maxPendingBytes: limit)
        let output = try await runner.run(job, into: try BlobKey(validating: "exports/slow"), resumingFrom: nil, checkpointRows: Self.pageSize) { _ in }
        #expect(try #require(await store.base.contents(of: output.blob.key)) == bytes)
        // When page k is asked for, at most pages 0..<k were encoded: what is not yet appended is at most
        // the limit, the page that crossed it, the batch being written and the page being encoded.
        let lag = source.calls.withLock { $0 }.map { offsets[$0.pages] - $0.appended }.max() ?? 0
        #expect(lag <= limit + 3 * lastPage, "encoded but not appended: at most \(lag) bytes (limit \(limit), last page \(lastPage))")
        #expect(lag > limit, "the writer was slow enough for pages to wait")
    }
}
