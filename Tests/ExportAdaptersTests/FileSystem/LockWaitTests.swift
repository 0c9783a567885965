import ExportAdapters
import ExportCore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Waiting for a file lock")
struct LockWaitTests {
    @Test("waiters suspend instead of blocking pool threads, and proceed once the lock is free", .timeLimit(.minutes(1)))
    func waitersDoNotBlockThreads() async throws {
        let directory = try TestDirectory("lock")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.url)
        // Another process (here: another open description) holds the store's lock.
        let fd = open(directory.path + "/store.lock", O_RDWR | O_CREAT, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        try #require(flock(fd, LOCK_EX) == 0)

        // More waiters than the concurrency pool has threads: blocking flock calls would take every
        // thread, and this test could never get to release the lock (the time limit would fail it).
        let waiters = max(8, ProcessInfo.processInfo.activeProcessorCount * 4)
        let tasks = (0..<waiters).map { index in
            Task { try await store.create(FSFixtures.job("job-\(index)")) }
        }
        // This task still runs and can hand work to another task while the waiters wait.
        let unrelated = await Task { (1...1000).reduce(0, +) }.value
        #expect(unrelated == 500_500)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/jobs").isEmpty)

        flock(fd, LOCK_UN)
        for task in tasks {
            guard case .created = try await task.value else {
                Issue.record("expected a new job")
                continue
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/jobs").count == waiters)
    }
}
