#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ExportCore
import Synchronization

/// Group commit of directory fsyncs, shared by the calls of one adapter.
///
/// A rename is durable once its directory has been fsynced *after* the rename. When several tasks
/// renamed into the same directory, one fsync started after the last of those renames covers them
/// all. So a caller asking for a directory fsync while another fsync of that directory is running
/// waits for the *next* one, and the next one is run once for everybody who arrived meanwhile (by the
/// first of them, who becomes the leader; the others are resumed with its result). Under load the
/// number of fsyncs per directory falls from one per call to one per round.
///
/// Inside ``POSIXFile/withLock(_:committer:_:)`` the directory fsyncs of the critical section are
/// collected (``pending``) and run here after the lock is released, so the lock is not held across
/// them and the concurrent callers they are batched with can run their critical sections meanwhile.
/// The caller still returns only after its fsyncs; until then its change may be seen by others (as
/// any committed-but-unsynced write) but it has not been acknowledged. This relies on the file system
/// persisting the renames of one critical section in their order (journalling file systems: ext4,
/// XFS, btrfs, APFS), as the steps of a queue move are no longer separated by an fsync each.
final class FileCommitter: Sendable {
    /// What a critical section of ``POSIXFile/withLock(_:committer:_:)`` asks of ``POSIXFile``: the
    /// durability in force and the directories whose fsync it deferred. Used by one task only.
    final class Pending: @unchecked Sendable {
        let durability: FileDurability
        private(set) var directories: [String] = []

        init(durability: FileDurability) { self.durability = durability }

        func add(_ directory: String) {
            if !directories.contains(directory) { directories.append(directory) }
        }
    }

    /// The critical section running on this task, if any.
    @TaskLocal static var pending: Pending?

    private enum Turn: Sendable {
        /// Run the next fsync for everybody waiting.
        case lead
        /// The fsync that covered this caller ran, with this outcome.
        case done(ExportError?)
    }

    private struct Directory {
        var syncing = false
        var waiters: [CheckedContinuation<Turn, Never>] = []
    }

    /// What the adapter's writes must survive.
    let durability: FileDurability
    private let directories = Mutex<[String: Directory]>([:])
    private let fsyncDirectory: @Sendable (String) -> ExportError?

    /// Creates a committer.
    ///
    /// - Parameters:
    ///   - durability: What writes must survive; with ``FileDurability/processCrash`` nothing is synced.
    ///   - fsyncDirectory: Syncs one directory and returns its error (tests count the calls).
    init(durability: FileDurability, fsyncDirectory: @escaping @Sendable (String) -> ExportError? = FileCommitter.fsyncDirectory) {
        self.durability = durability
        self.fsyncDirectory = fsyncDirectory
    }

    /// Makes the renames into `paths` durable: returns after an fsync of each that started after the call.
    func syncDirectories(_ paths: [String]) async throws(ExportError) {
        guard durability.syncs else { return }
        var firstError: ExportError?
        for path in paths {
            if let error = await syncDirectory(path), firstError == nil { firstError = error }
        }
        if let firstError { throw firstError }
    }

    /// One directory; the error of the fsync that covered the call, if it failed.
    private func syncDirectory(_ path: String) async -> ExportError? {
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let lead = directories.withLock { directories -> Bool in
                if directories[path, default: Directory()].syncing {
                    directories[path, default: Directory()].waiters.append(continuation)
                    return false
                }
                directories[path, default: Directory()].syncing = true
                return true
            }
            if lead { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .done(let error): return error
        case .lead: break
        }
        // Everybody waiting now renamed before this fsync starts, so it covers them.
        let covered = directories.withLock { directories -> [CheckedContinuation<Turn, Never>] in
            defer { directories[path]?.waiters = [] }
            return directories[path]?.waiters ?? []
        }
        let error = fsyncDirectory(path)
        for waiter in covered { waiter.resume(returning: .done(error)) }
        // Those who arrived during the fsync need another one: the first of them leads it.
        let next = directories.withLock { directories -> CheckedContinuation<Turn, Never>? in
            guard let waiters = directories[path]?.waiters, !waiters.isEmpty else {
                directories[path] = nil
                return nil
            }
            directories[path]?.waiters.removeFirst()
            return waiters[0]
        }
        next?.resume(returning: .lead)
        return error
    }

    /// How many callers are waiting for the next fsync of `path` (for tests).
    func waiting(on path: String) -> Int {
        directories.withLock { $0[path]?.waiters.count ?? 0 }
    }

    /// `fsync` of a directory, as ``POSIXFile/syncDirectory(_:durability:)`` does it.
    @Sendable static func fsyncDirectory(_ path: String) -> ExportError? {
        do throws(ExportError) {
            try POSIXFile.syncDirectoryNow(path)
            return nil
        } catch {
            return error
        }
    }
}
