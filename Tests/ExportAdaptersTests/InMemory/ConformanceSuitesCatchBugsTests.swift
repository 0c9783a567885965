import ExportAdapters
import ExportConformance
import ExportCore
import ExportTestSupport
import Foundation
import Testing

/// The suites are only worth running if they fail on broken adapters: each test here feeds one a
/// deliberately broken adapter and expects a ``ConformanceFailure``.
@Suite("Conformance suites catch broken adapters")
struct ConformanceSuitesCatchBugsTests {
    /// Forgets idempotency: every send is delivered.
    actor ForgetfulNotifier: Notifier {
        var counts: [String: Int] = [:]
        func send(_ notification: ExportNotification) async throws { counts[notification.idempotencyKey, default: 0] += 1 }
        func count(_ key: String) -> Int { counts[key, default: 0] }
    }

    /// Ignores versions: every update wins.
    struct LastWriterWinsStore: ForwardingJobStore {
        let inner = InMemoryJobStore()
        func update(_ job: ExportJob) async throws -> ExportJob {
            guard let stored = try await inner.get(job.id) else { throw ExportError(.notFound, "no job") }
            var forced = job
            forced.version = stored.version
            return try await inner.update(forced)
        }
    }

    /// Forgets to scope by owner on the first page.
    struct LeakySource: MembershipSource {
        let rows: [Membership]
        func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
            Page(items: Array(rows.prefix(limit)), next: nil)
        }
    }

    /// Acknowledges with any receipt of the message, stale ones included (the SQS-style pitfall).
    actor LaxQueue: ForwardingQueue {
        nonisolated let inner: InMemoryQueue
        var latest: [String: LeaseReceipt] = [:]
        init(clock: ManualClock) { inner = InMemoryQueue(clock: clock) }
        func receive(max: Int, visibilityTimeout: Duration, waitTime: Duration) async throws -> [Delivery] {
            let deliveries = try await inner.receive(max: max, visibilityTimeout: visibilityTimeout, waitTime: waitTime)
            for delivery in deliveries { latest[delivery.id.rawValue] = delivery.receipt }
            return deliveries
        }
        func acknowledge(_ receipt: LeaseReceipt) async throws {
            let id = String(receipt.rawValue.split(separator: "/")[0])
            try await inner.acknowledge(latest[id] ?? receipt)
        }
    }

    /// Writes through: every append is visible at once (a local file written in place).
    struct WriteThroughBlobStore: BlobStore {
        let inner = InMemoryBlobStore()

        actor Writer: BlobWriter {
            let inner: InMemoryBlobStore
            let key: BlobKey
            var bytes: [UInt8] = []
            init(inner: InMemoryBlobStore, key: BlobKey) { self.inner = inner; self.key = key }
            func append(_ more: [UInt8]) async throws {
                bytes += more
                let writer = try await inner.beginWrite(key: key, contentType: "text/csv")
                try await writer.append(bytes)
                _ = try await writer.finish()
            }
            func finish() async throws -> BlobMetadata {
                let writer = try await inner.beginWrite(key: key, contentType: "text/csv")
                try await writer.append(bytes)
                return try await writer.finish()
            }
            func abort() async throws { try await inner.delete(key) }
        }

        func beginWrite(key: BlobKey, contentType: String) async throws -> any BlobWriter { Writer(inner: inner, key: key) }
        func read(_ key: BlobKey) async throws -> AsyncThrowingStream<[UInt8], any Error> { try await inner.read(key) }
        func metadata(_ key: BlobKey) async throws -> BlobMetadata? { try await inner.metadata(key) }
        func delete(_ key: BlobKey) async throws { try await inner.delete(key) }
        func downloadLink(for key: BlobKey, filename: String, expiresIn: Duration) async throws -> DownloadLink {
            try await inner.downloadLink(for: key, filename: filename, expiresIn: expiresIn)
        }
        func abortIncompleteWrites(startedBefore date: Date) async throws -> Int {
            try await inner.abortIncompleteWrites(startedBefore: date)
        }
    }

    @Test func blobSuiteCatchesPartialFilesBecomingVisible() async throws {
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await BlobStoreConformance(makeStore: { WriteThroughBlobStore() }).run()
        }
        #expect(failure?.description.contains("a blob must be invisible until finish") == true)
    }

    /// Pages by offset instead of keyset: rows deleted before the cursor make it skip rows.
    struct OffsetSource: MembershipSource {
        let inner: InMemoryMembershipSource
        func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
            let all = await inner.all(of: owner)
            let start = min(all.count, cursor.flatMap { Int($0.token) } ?? 0)
            let end = min(all.count, start + limit)
            return Page(items: Array(all[start..<end]), next: end < all.count ? PageCursor(String(end)) : nil)
        }
    }

    @Test func sourceSuiteCatchesOffsetPaging() async throws {
        let latest = InMemoryConformanceTests.Latest()
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await MembershipSourceConformance(
                change: { inserted, deleted in
                    let source = try #require(await latest.source)
                    for row in inserted { await source.insert(row) }
                    for row in deleted { await source.remove(membershipID: row.membershipID, of: row.userID) }
                },
                makeSource: { rows in
                    let source = InMemoryMembershipSource(rows)
                    await latest.set(source)
                    return OffsetSource(inner: source)
                }
            ).run()
        }
        #expect(failure?.description.contains("changes during a scan") == true)
    }

    @Test func notifierSuiteCatchesDuplicateDelivery() async throws {
        let notifier = ForgetfulNotifier()
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await NotifierConformance(makeNotifier: { notifier }, deliveredCount: { await notifier.count($0) }).run()
        }
        #expect(failure?.description.contains("three sends with one idempotency key delivered 3") == true)
    }

    @Test func jobStoreSuiteCatchesMissingCompareAndSwap() async throws {
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await JobStoreConformance { LastWriterWinsStore() }.run()
        }
        #expect(failure?.description.contains("an update based on a stale version") == true)
    }

    @Test func sourceSuiteCatchesUnscopedPages() async throws {
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await MembershipSourceConformance { rows in LeakySource(rows: rows) }.run()
        }
        #expect(failure?.description.contains("held another user's row") == true)
    }

    @Test func queueSuiteCatchesStaleReceiptAcknowledging() async throws {
        let clock = ManualClock()
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await QueueConformance(
                makeQueue: { LaxQueue(clock: clock) }, advance: { clock.advance(by: $0) }, now: { clock.now() }
            ).run()
        }
        #expect(failure?.description.contains("the new holder could not acknowledge") == true)
    }
}
