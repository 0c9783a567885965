#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ExportCore
import Foundation
import Synchronization

/// Small, blocking POSIX file helpers shared by the file-system adapters.
///
/// Every helper maps `errno` onto `ExportError` (see ``error(_:_:_:)``) and retries `EINTR`.
/// Critical sections run under ``withLock(_:_:)`` never suspend, so blocking in them is short; waiting
/// for the lock itself suspends the task instead of blocking its thread.
enum POSIXFile {
    /// Maps an `errno` value onto the library's error codes.
    ///
    /// `ENOSPC`/`EDQUOT` become a retryable `ExportError.Code.storageFull`; `EACCES`, `EPERM` and `EROFS`
    /// a permanent `ExportError.Code.permissionDenied`; `ENOENT` `ExportError.Code.notFound`;
    /// anything else a retryable `ExportError.Code.io`.
    static func error(_ code: Int32, _ operation: String, _ path: String) -> ExportError {
        let reason = String(cString: strerror(code))
        let message = "\(operation) \(path) failed: \(reason) (errno \(code))"
        switch code {
        case ENOSPC, EDQUOT: return ExportError(.storageFull, message, isRetryable: true)
        case EACCES, EPERM, EROFS: return ExportError(.permissionDenied, message, isRetryable: false)
        case ENOENT: return ExportError(.notFound, message, isRetryable: false)
        default: return ExportError(.io, message, isRetryable: true)
        }
    }

    /// Creates a directory and its parents (like `mkdir -p`).
    static func makeDirectories(_ path: String) throws(ExportError) {
        // Usually only the last component is missing, or none: one mkdir instead of one per component.
        if mkdir(path, 0o755) == 0 { return }
        if errno == EEXIST {
            var info = stat()
            if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return }
        }
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 {
                let code = errno
                guard code == EEXIST else { throw error(code, "creating directory", current) }
                var info = stat()
                guard stat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                    throw ExportError(.io, "\(current) exists and is not a directory", isRetryable: false)
                }
            }
        }
    }

    /// Opens a file, retrying `EINTR`.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(ExportError) -> Int32 {
        while true {
            let fd = systemOpen(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            let code = errno
            if code != EINTR { throw error(code, "opening", path) }
        }
    }

    /// Writes every byte, retrying short writes and `EINTR`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(ExportError) {
        var offset = 0
        while offset < bytes.count {
            guard let base = bytes.baseAddress else { return }
            let written = systemWrite(fd, base + offset, bytes.count - offset)
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                throw error(code, "writing", path)
            }
            offset += written
        }
    }

    /// Writes every byte of an array.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(ExportError) {
        do {
            try bytes.withUnsafeBytes { buffer in try writeAll(fd, buffer, path: path) }
        } catch let failure as ExportError {
            throw failure
        } catch {
            throw ExportError(.io, "writing \(path) failed: \(error)")
        }
    }

    /// The durability in force: the one given, else the critical section's (see
    /// ``withLock(_:committer:_:)``), else ``FileDurability/powerLoss``.
    static func durability(_ given: FileDurability?) -> FileDurability {
        given ?? FileCommitter.pending?.durability ?? .powerLoss
    }

    /// Flushes a file's data to the device, unless the durability is ``FileDurability/processCrash``.
    /// Every failure (including `EBADF`, which means the descriptor is not the file we think it is) is
    /// an error.
    static func sync(_ fd: Int32, path: String, durability given: FileDurability? = nil) throws(ExportError) {
        guard durability(given).syncs else { return }
        while fsync(fd) != 0 {
            let code = errno
            if code == EINTR { continue }
            throw error(code, "syncing", path)
        }
    }

    /// Flushes a directory's entries (after a rename or unlink inside it), unless the durability is
    /// ``FileDurability/processCrash``. Inside ``withLock(_:committer:_:)`` the fsync is deferred to
    /// the lock's release, where the committer runs it for every concurrent caller at once.
    static func syncDirectory(_ path: String, durability given: FileDurability? = nil) throws(ExportError) {
        guard durability(given).syncs else { return }
        if let pending = FileCommitter.pending {
            pending.add(path)
            return
        }
        try syncDirectoryNow(path)
    }

    /// `fsync` of a directory, now.
    static func syncDirectoryNow(_ path: String) throws(ExportError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        while fsync(fd) != 0 {
            let code = errno
            if code == EINTR { continue }
            // Some file systems cannot fsync a directory (EINVAL); that is not a failure of the write.
            if code == EINVAL { return }
            throw error(code, "syncing", path)
        }
    }

    /// Reads a whole (small) file; `nil` when it does not exist.
    static func readAll(_ path: String) throws(ExportError) -> [UInt8]? {
        let fd: Int32
        do {
            fd = try open(path, O_RDONLY | O_NOFOLLOW)
        } catch let failure {
            if failure.code == .notFound { return nil }
            throw failure
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw error(code, "reading", path)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// Writes `bytes` to `path` atomically: a temp file in `temporaryDirectory` (same file system),
    /// write, fsync, rename over `path`, fsync of `path`'s directory (the fsyncs as the durability says;
    /// an empty file has no data to flush, so only its directory is synced).
    static func writeAtomically(
        _ bytes: [UInt8], to path: String, temporaryDirectory: String, durability: FileDurability? = nil
    ) throws(ExportError) {
        let temporary = temporaryDirectory + "/" + String(getpid()) + "-" + uniqueName() + ".tmp"
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
        do {
            try writeAll(fd, bytes, path: temporary)
            if !bytes.isEmpty { try sync(fd, path: temporary, durability: durability) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        try renameDurably(temporary, to: path, durability: durability)
    }

    /// Removes the `<pid>-<random>.tmp` files of ``writeAtomically(_:to:temporaryDirectory:)`` whose
    /// writing process no longer exists (it was killed between creating and renaming them). Files of
    /// live processes are left alone, so this is safe while other processes share the directory.
    ///
    /// - Returns: How many files were removed.
    @discardableResult
    static func removeOrphanedTemporaryFiles(in directory: String) -> Int {
        var removed = 0
        for name in (try? list(directory)) ?? [] where name.hasSuffix(".tmp") {
            guard let dash = name.firstIndex(of: "-"), let pid = Int32(name[..<dash]), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH, unlink(directory + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }

    /// Renames a file, then syncs the destination's directory (as the durability says).
    static func renameDurably(_ source: String, to destination: String, durability: FileDurability? = nil) throws(ExportError) {
        if rename(source, destination) != 0 {
            let code = errno
            unlink(source)
            throw error(code, "renaming into", destination)
        }
        try syncDirectory(directoryName(destination), durability: durability)
    }

    /// Renames a file; `false` when the source is gone (someone else moved it first).
    static func renameIfPresent(_ source: String, to destination: String) throws(ExportError) -> Bool {
        if rename(source, destination) == 0 { return true }
        let code = errno
        if code == ENOENT { return false }
        throw error(code, "renaming", source)
    }

    /// Deletes a file; a missing file is not an error.
    static func remove(_ path: String) throws(ExportError) {
        if unlink(path) != 0 {
            let code = errno
            if code != ENOENT { throw error(code, "deleting", path) }
        }
    }

    /// The names in a directory (not `.` or `..`); empty when it does not exist.
    static func list(_ path: String) throws(ExportError) -> [String] {
        guard let directory = opendir(path) else {
            let code = errno
            if code == ENOENT { return [] }
            throw error(code, "listing", path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// How long ``withLock(_:_:)`` keeps trying before it gives up with a retryable timeout. Critical
    /// sections take milliseconds, so only a stuck process holds a lock this long.
    static let lockWaitLimit: Duration = .seconds(30)

    /// Runs `body` holding an exclusive `flock` on `lockPath`, which excludes other processes and other
    /// open descriptions in this process. `body` must not suspend.
    ///
    /// Tasks of this process first queue, in arrival order, on the path's ``LocalLock``, so they wait
    /// for one another without polling. The `flock` is then tried without blocking (`LOCK_NB`); while
    /// another process holds it, the task sleeps 1 ms, doubling up to 16 ms, so no thread of the
    /// concurrency pool is ever blocked waiting.
    ///
    /// With a committer, `body`'s writes follow its durability, and the directory fsyncs `body` asks
    /// for run after the lock is released, group-committed with those of concurrent callers; the call
    /// returns after them.
    ///
    /// - Throws: `ExportError.Code.timeout` (retryable) once other processes have held the `flock`
    ///   for ``lockWaitLimit`` without a break (as the tasks queued here saw it, one after another),
    ///   `ExportError.Code.cancelled` when the task is cancelled while waiting, what `body` throws, or
    ///   the error of a deferred directory fsync.
    static func withLock<T>(
        _ lockPath: String, committer: FileCommitter? = nil, _ body: () throws(ExportError) -> T
    ) async throws(ExportError) -> T {
        // Tasks of this process queue for the lock here, so the `flock` below is contended only by
        // other processes.
        let local = LocalLock.named(lockPath)
        try await local.acquire(lockPath)
        var holdsLocal = true
        defer { if holdsLocal { local.release() } }
        let fd = try open(lockPath, O_RDWR | O_CREAT, mode: 0o644)
        defer { close(fd) }
        let clock = ContinuousClock()
        var pause = Duration.milliseconds(1)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else { throw error(code, "locking", lockPath) }
            // The limit is on the other process's hold, counted across the tasks queued here.
            guard local.blocked(at: clock.now) < lockWaitLimit else {
                throw ExportError(.timeout, "\(lockPath) stayed locked for \(lockWaitLimit)", isRetryable: true)
            }
            do {
                try await Task.sleep(for: pause)
            } catch {
                throw ExportError(.cancelled, "cancelled while waiting for \(lockPath)", cause: error)
            }
            pause = min(pause * 2, .milliseconds(16))
        }
        local.unblocked()
        guard let committer else {
            defer { flock(fd, LOCK_UN) }
            return try body()
        }
        let pending = FileCommitter.Pending(durability: committer.durability)
        let result: Result<T, ExportError> = FileCommitter.$pending.withValue(pending) {
            do throws(ExportError) { return .success(try body()) } catch { return .failure(error) }
        }
        flock(fd, LOCK_UN)
        holdsLocal = false
        local.release()
        // Synced even when `body` failed half-way: what it did rename stays, and should be durable.
        try await committer.syncDirectories(pending.directories)
        return try result.get()
    }

    /// The directory part of a path.
    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A name no other writer will pick: 32 random hex digits.
    ///
    /// The 16 bytes come from one `getentropy` call, which is one `getrandom` system call on Linux (the
    /// file-system adapters take several names per job; the stdlib generator used to cost a system
    /// call per byte here). Should it fail, the stdlib's system generator draws them instead.
    static func uniqueName() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let failed = bytes.withUnsafeMutableBytes { getentropy($0.baseAddress, $0.count) } != 0
        if failed {
            var generator = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        }
        return Hex.encode(bytes)
    }

    /// Resolves a directory to its absolute, symlink-free path, creating it first.
    static func prepareRoot(_ url: URL) throws(ExportError) -> String {
        let path = url.path
        try makeDirectories(path)
        guard let resolved = realpath(path, nil) else { throw error(errno, "resolving", path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Creates a directory under `root` (an already resolved path) and checks that it resolves inside
    /// `root`, so a symbolic link planted in its place cannot send the adapter's files elsewhere.
    /// A link that stays inside `root` is allowed.
    ///
    /// - Throws: `ExportError.Code.configuration` naming the link and its target when it leads outside.
    static func makeDirectory(_ path: String, inside root: String) throws(ExportError) {
        try makeDirectories(path)
        guard let resolved = realpath(path, nil) else { throw error(errno, "resolving", path) }
        defer { free(resolved) }
        let real = String(cString: resolved)
        let prefix = root.hasSuffix("/") ? root : root + "/"
        guard real == root || real.hasPrefix(prefix) else {
            throw ExportError(
                .configuration,
                "\(path) leads to \(real), outside \(root): a data folder may not be a symbolic link out of the data directory; "
                    + "replace the link with a real folder (or point the whole data directory elsewhere)")
        }
    }

    /// A whole number of a `Double`, clamped to `Int64`'s range (`Int64(_:)` traps outside it); NaN is 0.
    static func clampedInt64(_ value: Double) -> Int64 {
        guard !value.isNaN else { return 0 }
        // Double(Int64.max) rounds up to 2^63, which is already out of range.
        if value >= Double(Int64.max) { return .max }
        if value <= Double(Int64.min) { return .min }
        return Int64(value)
    }

    /// The largest time ``sortableMilliseconds(_:roundingUp:)`` writes (15 digits, about year 33658).
    static let maximumSortableMilliseconds: Int64 = 999_999_999_999_999

    /// Milliseconds since 1970 as a fixed-width sortable decimal; rounded up by default, so a time
    /// used as "not before" is never early. Times outside 1970 to ~33658 are clamped, never trapped on.
    static func sortableMilliseconds(_ date: Date, roundingUp: Bool = true) -> String {
        let exact = clampedInt64((date.timeIntervalSince1970 * 1000).rounded(roundingUp ? .up : .down))
        let milliseconds = min(max(0, exact), maximumSortableMilliseconds)
        let digits = String(milliseconds)
        return String(repeating: "0", count: max(0, 15 - digits.count)) + digits
    }
}

private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }

func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }

func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
