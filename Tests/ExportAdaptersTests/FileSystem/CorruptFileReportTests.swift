import ExportAdapters
import ExportCore
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Corrupt files are reported")
struct CorruptFileReportTests {
    /// Collects the reports of one adapter.
    final class Reports: Sendable {
        let all = Mutex<[CorruptFileReport]>([])
        var handler: @Sendable (CorruptFileReport) -> Void { { report in self.all.withLock { $0.append(report) } } }
        var list: [CorruptFileReport] { all.withLock { $0 } }
    }

    @Test("job records: a listing, a scan and a get each report what they move aside, once")
    func jobStore() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let reports = Reports()
        let store = try FileJobStore(directory: directory.url, onCorruptFile: reports.handler)
        _ = try await store.create(FSFixtures.job("good"))
        _ = try await store.create(FSFixtures.job("bad", createdAt: FSFixtures.start.addingTimeInterval(1)))
        _ = try await store.create(FSFixtures.job("worse"))
        try directory.write("{\"id\": \"bad\", truncated", to: "jobs/bad.json")
        try directory.write("not json", to: "jobs/worse.json")

        #expect(try await store.list(owner: "u1", after: nil, limit: 10).items.map(\.id.rawValue) == ["good"])
        let first = reports.list
        #expect(first.count == 2)
        #expect(Set(first.map { ($0.path as NSString).lastPathComponent }) == ["bad.json", "worse.json"])
        for report in first {
            #expect(report.movedTo.contains("/corrupt/") && FileManager.default.fileExists(atPath: report.movedTo))
            #expect(!report.reason.isEmpty)
        }
        // Already moved: nothing more to report.
        #expect(try await store.stale(in: [.queued], updatedBefore: FSFixtures.start.addingTimeInterval(10), limit: 10).count == 1)
        _ = try await store.create(FSFixtures.job("third"))
        try directory.write("[]", to: "jobs/third.json")
        await expectExportError(.corruptData) { try await store.get(JobID("third")!) }
        #expect(reports.list.count == 3)
        #expect(directory.list("corrupt").count == 3)
    }

    @Test("queue files: receive and the dead-letter listing move aside and report; the handler may use the queue")
    func queue() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let reports = Reports()
        let lockFree = Mutex<[Bool]>([])
        let lockPath = directory.path + "/queue.lock"
        let queue = try FileQueue(directory: directory.url, clock: ManualClock()) { report in
            reports.handler(report)
            // Called with the queue's lock released, so the handler may use the queue.
            let fd = open(lockPath, O_RDWR)
            let free = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0
            if fd >= 0 { close(fd) }
            lockFree.withLock { $0.append(free) }
        }
        try await queue.enqueue(QueueMessage(jobID: JobID("job-1")!))
        try directory.write("garbage", to: "ready/000000000000001_abcdef.msg")
        try directory.write("{\"id\":", to: "leased/abcd_1234.msg")
        #expect(try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .zero).count == 1)
        #expect(reports.list.count == 2)

        try directory.write("{}", to: "dead/000000000000001_abcdef.msg")
        try directory.write("x", to: "dead/no-name")
        #expect(try await queue.deadLetters(limit: 10).isEmpty)
        #expect(directory.list("dead").isEmpty)
        #expect(directory.list("corrupt").count == 4)
        let paths = reports.list.map(\.path)
        #expect(paths.count == 4)
        #expect(paths.contains { $0.hasSuffix("/dead/no-name") })
        #expect(paths.contains { $0.hasSuffix("/leased/abcd_1234.msg") })
        #expect(lockFree.withLock { $0 } == [true, true, true, true])
    }
}
