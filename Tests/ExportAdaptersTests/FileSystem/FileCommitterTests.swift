import ExportAdapters
import ExportCore
@testable import ExportFileSystem
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Group commit of directory fsyncs: every caller returns only after an fsync of its directory that
/// started after it asked, concurrent callers share fsyncs, and a critical section's fsyncs run after
/// its lock is released. The fsync is a recording stand-in, so the tests see every call.
@Suite("Group commit of directory fsyncs")
struct FileCommitterTests {
    /// A clock of events: each tick is a step in one total order.
    final class Ticks: Sendable {
        private let counter = Mutex(0)
        func next() -> Int { counter.withLock { $0 += 1; return $0 } }
    }

    /// The fsyncs run, as ticks at their start and end, with the path.
    final class Fsyncs: Sendable {
        let ticks: Ticks
        let recorded = Mutex<[(path: String, start: Int, end: Int)]>([])
        /// Checked during each fsync (for example: is the lock free?); `false` is recorded.
        let check: @Sendable () -> Bool
        let checksPassed = Mutex(true)

        init(ticks: Ticks, check: @escaping @Sendable () -> Bool = { true }) {
            self.ticks = ticks
            self.check = check
        }

        func fsync(_ path: String) -> ExportError? {
            let start = ticks.next()
            if !check() { checksPassed.withLock { $0 = false } }
            usleep(2_000)  // a slow disk, so that callers pile up behind a running fsync
            let end = ticks.next()
            recorded.withLock { $0.append((path, start, end)) }
            return nil
        }
    }

    /// Holds the committer the stand-in fsync asks about (it exists only after the committer).
    final class CommitterBox: @unchecked Sendable {
        var committer: FileCommitter?
    }

    @Test("64 concurrent callers: each returns after an fsync that started after its call; those who arrive during an fsync share the next one")
    func coalesces() async throws {
        let ticks = Ticks()
        let box = CommitterBox()
        let first = Mutex(true)
        // The first fsync holds on until the 63 other callers wait behind it (at most 60 s, so a starved
        // machine fails the count below instead of hanging), so the grouping does not depend on timing.
        // It blocks the thread it runs on; under the whole suite on two cores the other callers may
        // wait long for a thread (10 s was once too short).
        let fsyncs = Fsyncs(ticks: ticks) {
            if first.withLock({ let was = $0; $0 = false; return was }) {
                for _ in 0..<60_000 where (box.committer?.waiting(on: "/data/jobs") ?? 0) < 63 { usleep(1_000) }
            }
            return true
        }
        let committer = FileCommitter(durability: .powerLoss, fsyncDirectory: { fsyncs.fsync($0) })
        box.committer = committer
        let calls = try await withThrowingTaskGroup(of: (asked: Int, returned: Int).self) { group in
            for _ in 0..<64 {
                group.addTask {
                    let asked = ticks.next()
                    try await committer.syncDirectories(["/data/jobs"])
                    return (asked, ticks.next())
                }
            }
            var calls: [(asked: Int, returned: Int)] = []
            for try await call in group { calls.append(call) }
            return calls
        }
        let recorded = fsyncs.recorded.withLock { $0 }
        #expect(recorded.allSatisfy { $0.path == "/data/jobs" })
        for call in calls {
            #expect(
                recorded.contains { $0.start > call.asked && $0.end < call.returned },
                "a caller (asked at \(call.asked), returned at \(call.returned)) was not covered by an fsync it waited for")
        }
        // Never two fsyncs of one directory at once.
        let sorted = recorded.sorted { $0.start < $1.start }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) { #expect(earlier.end < later.start) }
        // The first caller's fsync, then one for the 63 who arrived during it.
        #expect(recorded.count == 2, "\(recorded.count) fsyncs for 64 callers")
    }

    @Test("process-crash durability syncs nothing")
    func processCrashSyncsNothing() async throws {
        let fsyncs = Fsyncs(ticks: Ticks())
        let committer = FileCommitter(durability: .processCrash, fsyncDirectory: { fsyncs.fsync($0) })
        try await committer.syncDirectories(["/data/jobs", "/data/queue"])
        #expect(fsyncs.recorded.withLock { $0.isEmpty })
    }

    @Test("A critical section's directory fsyncs run once each, after the lock is released, before withLock returns")
    func deferredPastTheLock() async throws {
        let directory = try TestDirectory("committer")
        defer { directory.remove() }
        let lockPath = directory.path + "/test.lock"
        let ticks = Ticks()
        // During the fsync another open description must be able to take the lock at once.
        let fsyncs = Fsyncs(ticks: ticks) {
            let fd = open(lockPath, O_RDWR)
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
            flock(fd, LOCK_UN)
            return true
        }
        let committer = FileCommitter(durability: .powerLoss, fsyncDirectory: { fsyncs.fsync($0) })
        let target = directory.path + "/records"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let tmp = directory.path + "/tmp"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        try await POSIXFile.withLock(lockPath, committer: committer) { () throws(ExportError) in
            try POSIXFile.writeAtomically(Array("one".utf8), to: target + "/a.json", temporaryDirectory: tmp)
            try POSIXFile.writeAtomically(Array("two".utf8), to: target + "/b.json", temporaryDirectory: tmp)
            #expect(fsyncs.recorded.withLock { $0.isEmpty }, "a directory fsync ran while the lock was held")
        }
        let recorded = fsyncs.recorded.withLock { $0 }
        #expect(recorded.map(\.path) == [target], "one fsync of the directory renamed into, not \(recorded.map(\.path))")
        #expect(fsyncs.checksPassed.withLock { $0 }, "the lock was still held during the fsync")
        #expect(try String(contentsOfFile: target + "/b.json", encoding: .utf8) == "two")
    }

    @Test("A store with process-crash durability keeps its records and compare-and-swap")
    func processCrashStore() async throws {
        let directory = try TestDirectory("committer-store")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.sub("jobs"), durability: .processCrash)
        let job = ExportJob(
            id: try #require(JobID("job-1")), owner: UserID("u1"), recipient: EmailAddress("u1@example.com")!, options: ExportOptions(format: .csv),
            createdAt: Date(timeIntervalSince1970: 1_700_000_000))
        guard case .created(let created) = try await store.create(job) else {
            Issue.record("not created")
            return
        }
        var running = created
        running.rowsWritten = 5
        let updated = try await store.update(running)
        await #expect(throws: ExportError.self) { try await store.update(running) }  // stale version
        let reopened = try FileJobStore(directory: directory.sub("jobs"), durability: .powerLoss)
        #expect(try await reopened.get(job.id) == updated)
    }
}
