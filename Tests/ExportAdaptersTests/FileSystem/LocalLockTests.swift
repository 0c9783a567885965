import ExportCore
@testable import ExportFileSystem
import Foundation
import Synchronization
import Testing

/// The in-process queue in front of the file locks (``LocalLock``).
@Suite("Local lock", .timeLimit(.minutes(1)))
struct LocalLockTests {
    /// Shared counters for the tasks of a test.
    final class LockProbe: Sendable {
        let inside = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        let order = Mutex<[String]>([])
    }

    static func waitUntil(_ lock: LocalLock, hasWaiting count: Int) async {
        while lock.waiting < count { await Task.yield() }
    }

    @Test("Tasks of one process take a lock file in turn, one at a time, without polling its flock")
    func oneProcess() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locallock-\(UUID().uuidString)").path
        try POSIXFile.makeDirectories(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lockPath = directory + "/test.lock"
        let counters = LockProbe()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<48 {
                group.addTask {
                    try await POSIXFile.withLock(lockPath) { () throws(ExportError) in
                        let now = counters.inside.add(1, ordering: .relaxed).newValue
                        _ = counters.most.max(now, ordering: .relaxed)
                        // A critical section long enough for the others to pile up behind it.
                        try POSIXFile.writeAtomically(Array("\(index)".utf8), to: directory + "/record", temporaryDirectory: directory, durability: .powerLoss)
                        counters.inside.subtract(1, ordering: .relaxed)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(counters.most.load(ordering: .relaxed) == 1)
        #expect(LocalLock.named(lockPath).contendedFlockAttempts.load(ordering: .relaxed) == 0)
    }

    @Test("Waiters get the lock in the order they asked")
    func firstComeFirstServed() async throws {
        let lock = LocalLock()
        try await lock.acquire("test")
        let counters = LockProbe()
        let first = Task {
            try await lock.acquire("test")
            counters.order.withLock { $0.append("first") }
            lock.release()
        }
        await Self.waitUntil(lock, hasWaiting: 1)
        let second = Task {
            try await lock.acquire("test")
            counters.order.withLock { $0.append("second") }
            lock.release()
        }
        await Self.waitUntil(lock, hasWaiting: 2)
        lock.release()
        try await first.value
        try await second.value
        #expect(counters.order.withLock { $0 } == ["first", "second"])
        #expect(lock.waiting == 0)
        // Free again: taken at once.
        try await lock.acquire("test")
        lock.release()
    }

    @Test("A waiter cancelled while it waits throws and holds nothing")
    func cancelledWaiter() async throws {
        let lock = LocalLock()
        try await lock.acquire("test")
        let waiter = Task { try await lock.acquire("test") }
        await Self.waitUntil(lock, hasWaiting: 1)
        waiter.cancel()
        await #expect { try await waiter.value } throws: { ($0 as? ExportError)?.code == .cancelled }
        #expect(lock.waiting == 0)
        lock.release()
        let next = Task {
            try await lock.acquire("test")
            lock.release()
        }
        try await next.value
    }

    @Test("A task cancelled before it queues throws and holds nothing")
    func cancelledBeforeQueueing() async throws {
        let lock = LocalLock()
        try await lock.acquire("test")
        let waiter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await lock.acquire("test")
        }
        await #expect { try await waiter.value } throws: { ($0 as? ExportError)?.code == .cancelled }
        #expect(lock.waiting == 0)
        lock.release()
        try await lock.acquire("test")
        lock.release()
    }

    @Test("The flock wait limit counts an unbroken stretch of sightings, across holders")
    func blockedStretch() {
        let lock = LocalLock()
        let start = ContinuousClock.now
        #expect(lock.blocked(at: start) == .zero)
        #expect(lock.blocked(at: start + .milliseconds(500)) == .milliseconds(500))
        #expect(lock.blocked(at: start + .milliseconds(1_400)) == .milliseconds(1_400))
        // Nobody polled for more than a second: a new stretch.
        #expect(lock.blocked(at: start + .seconds(3)) == .zero)
        #expect(lock.blocked(at: start + .milliseconds(3_200)) == .milliseconds(200))
        lock.unblocked()
        #expect(lock.blocked(at: start + .milliseconds(3_300)) == .zero)
        #expect(lock.contendedFlockAttempts.load(ordering: .relaxed) == 6)
    }
}
