import ExportAdapters
import ExportConformance
import ExportCore
import Foundation
import Testing

/// Every conformance suite against every file-system adapter, each case in a fresh directory.
@Suite("File-system adapters pass the conformance suites")
struct FileSystemConformanceTests {
    @Test func jobStore() async throws {
        let directory = try TestDirectory("conf-jobs")
        defer { directory.remove() }
        try await JobStoreConformance { try FileJobStore(directory: directory.sub(UUID().uuidString)) }.run()
    }

    @Test("job store, with a separate instance per call sharing one directory (as separate processes do)")
    func jobStoreSharedDirectory() async throws {
        let directory = try TestDirectory("conf-jobs-shared")
        defer { directory.remove() }
        try await JobStoreConformance {
            let root = directory.sub(UUID().uuidString)
            return SplitJobStore(stores: try (0..<4).map { _ in try FileJobStore(directory: root) })
        }.run()
    }

    @Test func queue() async throws {
        let directory = try TestDirectory("conf-queue")
        defer { directory.remove() }
        let clock = ManualClock()
        try await QueueConformance(
            makeQueue: { try FileQueue(directory: directory.sub(UUID().uuidString), clock: clock) },
            advance: { clock.advance(by: $0) },
            now: { clock.now() }
        ).run()
    }

    @Test func blobStore() async throws {
        let directory = try TestDirectory("conf-blobs")
        defer { directory.remove() }
        let clock = ManualClock()
        let secret = Array("conformance secret, 32 bytes....".utf8)
        let base = URL(string: "http://localhost:8080/downloads")!
        let store = try FileBlobStore(configuration: .init(directory: directory.url, linkSecret: secret, linkBaseURL: base), clock: clock)
        let signer = DownloadLinkSigner(secret: secret, baseURL: base)
        try await BlobStoreConformance(
            makeStore: { store },
            now: { clock.now() },
            fetch: { url in
                // What a host's download route does: verify, then stream the blob.
                let verified: VerifiedDownload
                do throws(DownloadLinkRejection) {
                    verified = try signer.verify(url, now: clock.now())
                } catch {
                    throw error.exportError
                }
                var bytes: [UInt8] = []
                for try await chunk in try await store.read(verified.key) { bytes += chunk }
                return bytes
            },
            advance: { clock.advance(by: $0) }
        ).run()
        #expect(directory.list("tmp").isEmpty, "no temp files are left")
    }

    @Test func notifier() async throws {
        let directory = try TestDirectory("conf-outbox")
        defer { directory.remove() }
        let notifier = try OutboxNotifier(directory: directory.url, from: EmailAddress("exports@example.com")!, clock: ManualClock())
        try await NotifierConformance(
            makeNotifier: { notifier },
            deliveredCount: { key in
                // One file per key is the whole guarantee: count the files whose header names the key.
                let files = directory.list("").filter { $0.hasSuffix(".eml") }
                return try files.filter { try directory.read($0).contains("X-Export-Idempotency-Key: \(key)\r\n") }.count
            }
        ).run()
    }

    @Test func membershipSource() async throws {
        let directory = try TestDirectory("conf-members")
        defer { directory.remove() }
        try await MembershipSourceConformance { rows in
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let lines = try rows.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
            let file = directory.url.appendingPathComponent(UUID().uuidString + ".jsonl")
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
            return try FileMembershipSource(fileURL: file)
        }.run()
    }
}

/// Spreads calls over several store instances on one directory, round robin, so the suite's racing
/// writers really go through separate lock descriptions.
final class SplitJobStore: JobStore, @unchecked Sendable {
    let stores: [FileJobStore]
    private let counter = Counter()

    init(stores: [FileJobStore]) { self.stores = stores }

    private var next: FileJobStore { stores[counter.next() % stores.count] }

    func create(_ job: ExportJob) async throws -> JobCreation { try await next.create(job) }
    func get(_ id: JobID) async throws -> ExportJob? { try await next.get(id) }
    func update(_ job: ExportJob) async throws -> ExportJob { try await next.update(job) }
    func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        try await next.list(owner: owner, after: cursor, limit: limit)
    }
    func jobs(matching filter: JobFilter, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        try await next.jobs(matching: filter, after: cursor, limit: limit)
    }
    func stale(in states: Set<JobState>, updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        try await next.stale(in: states, updatedBefore: updatedBefore, limit: limit)
    }
    func unnotified(updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        try await next.unnotified(updatedBefore: updatedBefore, limit: limit)
    }
    func expired(now: Date, limit: Int) async throws -> [ExportJob] { try await next.expired(now: now, limit: limit) }
    func delete(_ job: ExportJob) async throws { try await next.delete(job) }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}
