#if canImport(Glibc)
import Glibc
#endif
import ExportCore
import Foundation

/// Resumable writes: a checkpointed temp file is `tmp/<started ms>_<random>.resumable`, and its
/// resume token is the name without the extension.
///
/// A writer holds the file's `flock` while it writes, so ``resumeWrite(key:contentType:from:)`` takes
/// a file over only once its writer is gone (it crashed, was handed back or suspended): two writers never
/// append to one file. Opening a store keeps `.resumable` files, and
/// ``abortIncompleteWrites(startedBefore:)`` removes one only when it is unlocked and was last written
/// before the cut-off, so a job waiting out a retry delay keeps its file.
extension FileBlobStore {
    /// The suffix of a checkpointed temp file.
    static let resumableSuffix = ".resumable"

    /// The `.resumable` path of a `.part` temp file.
    static func resumablePath(of partPath: String) -> String {
        (partPath.hasSuffix(".part") ? String(partPath.dropLast(".part".count)) : partPath) + resumableSuffix
    }

    /// The token of a `.resumable` temp file: its name without directory or suffix.
    static func resumeToken(of resumablePath: String) -> String {
        let name = resumablePath.split(separator: "/").last.map(String.init) ?? resumablePath
        return name.hasSuffix(resumableSuffix) ? String(name.dropLast(resumableSuffix.count)) : name
    }

    /// The path a token names, or `nil` for a token this store cannot have made (it comes from a stored
    /// record, so it is checked to stay a plain name in `tmp/`): 15 digits, `_`, 32 lower-case hex digits.
    func resumablePath(token: String) -> String? {
        let parts = token.utf8.split(separator: UInt8(ascii: "_"), omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 15, parts[0].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            parts[1].count == 32,
            parts[1].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
        else { return nil }
        return temporaryDirectory + "/" + token + Self.resumableSuffix
    }

    /// Reopens a checkpointed temp file, cut back to `point.size` bytes, for a writer that finishes
    /// under `key`.
    ///
    /// - Parameters:
    ///   - key: Where the blob will be stored.
    ///   - contentType: Its MIME type.
    ///   - point: The checkpoint's resume point.
    /// - Returns: The writer; `nil` when the token is not one of this store's, the file is gone or shorter
    ///   than the point, or a live writer still holds it.
    /// - Throws: `ExportError` when the file exists but cannot be opened, locked or cut back.
    public func resumeWrite(key: BlobKey, contentType: String, from point: BlobResumePoint) async throws -> (any BlobWriter)? {
        _ = try blobPath(key)
        guard let path = resumablePath(token: point.token), point.size >= 0 else { return nil }
        let fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            throw POSIXFile.error(code, "opening", path)
        }
        var keep = false
        defer { if !keep { close(fd) } }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK { return nil }  // its writer is alive (a stalled worker's)
            throw POSIXFile.error(code, "locking", path)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_nlink > 0, Int64(info.st_size) >= point.size else {
            return nil  // removed by a sweep in the meantime, or bytes the checkpoint covered are missing
        }
        guard ftruncate(fd, off_t(point.size)) == 0 else { throw POSIXFile.error(errno, "truncating", path) }
        guard lseek(fd, off_t(point.size), SEEK_SET) == off_t(point.size) else { throw POSIXFile.error(errno, "seeking in", path) }
        keep = true
        return FileBlobWriter(store: self, key: key, contentType: contentType, temporaryPath: path, fd: fd, resumedAt: point.size)
    }

    /// Removes a checkpointed temp file unless a live writer holds it; a missing file is fine.
    ///
    /// - Parameters:
    ///   - point: The checkpoint's resume point.
    /// - Throws: `ExportError` when the file cannot be removed.
    public func discardWrite(_ point: BlobResumePoint) async throws {
        guard let path = resumablePath(token: point.token) else { return }
        _ = try Self.removeIfUnlocked(path)
    }

    /// Whether a `.resumable` file was last written before the cut-off (its modification time).
    static func lastWritten(_ path: String, before date: Date) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        return modified < date.timeIntervalSince1970
    }
}
