#if canImport(Glibc)
import Glibc
#endif
import ExportCore
import Foundation

/// A `BlobStore` on the local file system, with HMAC-signed download links.
///
/// Layout under the root:
/// - `blobs/<key>`: finished blobs; a key's `/` segments are directories.
/// - `meta/<key>.json`: each blob's content type.
/// - `tmp/<started ms>_<random>.part`: writes in progress, renamed into `blobs/` by
///   `BlobWriter.finish()` after an fsync, so no reader ever sees a partial file. Each writer holds an
///   exclusive `flock` on its file until then; ``abortIncompleteWrites(startedBefore:)`` removes only
///   files that are old enough (by the start time in the name) and not locked, so it removes the files of
///   writers that died or were dropped, never the file of a live (even very slow) writer. Opening a
///   store removes every unlocked `.part` file, whatever its age.
/// - `tmp/<started ms>_<random>.resumable`: a write an export checkpointed, kept for the next attempt
///   (see `FileBlobStore+Resume.swift`); swept only once unlocked and not written for the cut-off's age.
///
/// Keys are `BlobKey` values (no `..`, no absolute paths, no NUL), and, as a second line of defence,
/// every path is checked again here: no existing component under `blobs/` may be a symbolic link (so a
/// link planted in the tree cannot lead outside the root), and files are opened with `O_NOFOLLOW`.
/// Two keys where one is a directory of the other (`a` and `a/b`) cannot both exist; the second write
/// fails with `ExportError.Code.invalidKey`.
///
/// Errors: a full disk is a retryable `ExportError.Code.storageFull`; a permission problem a permanent
/// `ExportError.Code.permissionDenied`. In both cases the temp file is removed by `BlobWriter.abort()`
/// and nothing becomes visible.
public final class FileBlobStore: BlobStore {
    let root: String
    let configuration: Configuration
    let clock: any ExportClock
    let signer: DownloadLinkSigner
    var blobsDirectory: String { root + "/blobs" }
    var metaDirectory: String { root + "/meta" }
    var temporaryDirectory: String { root + "/tmp" }

    /// Opens (creating if needed) a store.
    ///
    /// - Parameters:
    ///   - configuration: The directory and link settings.
    ///   - clock: The clock for link expiry and the start times of writes.
    /// - Throws: `ExportError.Code.configuration` for a secret shorter than 16 bytes, or another
    ///   `ExportError` when the directory cannot be created or used.
    public init(configuration: Configuration, clock: any ExportClock = SystemClock()) throws(ExportError) {
        guard configuration.linkSecret.count >= 16 else {
            throw ExportError(.configuration, "the download link secret must be at least 16 bytes")
        }
        root = try POSIXFile.prepareRoot(configuration.directory)
        self.configuration = configuration
        self.clock = clock
        signer = DownloadLinkSigner(secret: configuration.linkSecret, baseURL: configuration.linkBaseURL)
        for path in [blobsDirectory, metaDirectory, temporaryDirectory] { try POSIXFile.makeDirectory(path, inside: root) }
        // Temp files of metadata writes by killed processes, and blob writes nobody holds a lock on
        // (their writer died): a live writer's file is locked, so opening a store never disturbs it.
        POSIXFile.removeOrphanedTemporaryFiles(in: temporaryDirectory)
        for name in (try? POSIXFile.list(temporaryDirectory)) ?? [] where name.hasSuffix(".part") {
            _ = try? Self.removeIfUnlocked(temporaryDirectory + "/" + name)
        }
    }

    /// Starts writing a blob into a temp file.
    ///
    /// - Parameters:
    ///   - key: Where the blob will be stored.
    ///   - contentType: The MIME type to store it with.
    /// - Returns: A writer that accepts the bytes in order.
    /// - Throws: `ExportError` when the temp file cannot be created.
    public func beginWrite(key: BlobKey, contentType: String) async throws -> any BlobWriter {
        _ = try blobPath(key)
        let temporary = temporaryDirectory + "/" + POSIXFile.sortableMilliseconds(clock.now()) + "_"
            + POSIXFile.uniqueName() + ".part"
        let fd = try POSIXFile.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
        // A new file: nobody else holds its lock, except a sweep that opened it in the instant before.
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            unlink(temporary)
            throw POSIXFile.error(code, "locking", temporary)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_nlink > 0 else {
            // A sweep removed it between the open and the lock: the caller may simply try again.
            close(fd)
            throw ExportError(.io, "the temp file \(temporary) was removed while starting the write", isRetryable: true)
        }
        return FileBlobWriter(store: self, key: key, contentType: contentType, temporaryPath: temporary, fd: fd)
    }

    /// Reads a blob as a stream of chunks of the configured size.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Returns: The blob's bytes.
    /// - Throws: `ExportError.Code.notFound` when there is no such blob.
    public func read(_ key: BlobKey) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        let path = try blobPath(key)
        let fd = try Self.openForReading(path, key: key)
        let handle = ReadHandle(fd: fd, path: path, chunkSize: max(1, configuration.readChunkSize))
        return AsyncThrowingStream<[UInt8], any Error>(unfolding: { () async throws -> [UInt8]? in try handle.next() })
    }

    /// Describes a stored blob.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Returns: Its size and content type, or `nil` when there is no such blob.
    /// - Throws: `ExportError` when the store fails.
    public func metadata(_ key: BlobKey) async throws -> BlobMetadata? {
        let path = try blobPath(key)
        var info = stat()
        guard lstat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw POSIXFile.error(code, "inspecting", path)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        var contentType = "application/octet-stream"
        if let bytes = try? POSIXFile.readAll(try metaPath(key)),
            let stored = try? JSONDecoder().decode(StoredMeta.self, from: Data(bytes))
        {
            contentType = stored.contentType
        }
        return BlobMetadata(key: key, size: Int64(info.st_size), contentType: contentType)
    }

    /// Deletes a blob; deleting a missing blob succeeds.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Throws: `ExportError` when the store fails.
    public func delete(_ key: BlobKey) async throws {
        let path = try blobPath(key)
        if unlink(path) != 0 {
            let code = errno
            if code != ENOENT && code != ENOTDIR { throw POSIXFile.error(code, "deleting", path) }
        }
        let meta = try metaPath(key)
        if unlink(meta) != 0 {
            let code = errno
            if code != ENOENT && code != ENOTDIR { throw POSIXFile.error(code, "deleting", meta) }
        }
    }

    /// Makes a signed, time-limited link, verifiable with ``DownloadLinkSigner/verify(key:query:now:)``.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    ///   - filename: The file name the browser should save it as (reduced to `A-Z a-z 0-9 . _ -`).
    ///   - expiresIn: How long the link works (whole seconds).
    /// - Returns: The link and its expiry.
    /// - Throws: `ExportError.Code.invalidRequest` when `expiresIn` is not positive or longer than the
    ///   configured maximum.
    public func downloadLink(for key: BlobKey, filename: String, expiresIn: Duration) async throws -> DownloadLink {
        guard expiresIn > .zero, expiresIn <= configuration.maximumLinkLifetime else {
            throw ExportError(.invalidRequest, "a download link must live between 0 and \(configuration.maximumLinkLifetime)")
        }
        let expiresAt = clock.now().adding(expiresIn)
        return signer.link(for: key, filename: filename, expiresAt: expiresAt)
    }

    /// Removes temp files of writes started before `date` whose writer is gone (it died, or dropped the
    /// writer without finishing or aborting), and checkpointed files nobody holds that were last written
    /// before `date`.
    ///
    /// A file whose writer is still alive is kept whatever its age: the writer holds an exclusive `flock`
    /// on it, which the kernel drops when the writer closes it or its process dies. Each candidate is
    /// locked (without waiting) before it is removed, so a writer cannot take it over half-way.
    ///
    /// - Parameters:
    ///   - date: Only writes started before this moment are removed.
    /// - Returns: How many were removed.
    /// - Throws: `ExportError` when the store fails.
    @discardableResult
    public func abortIncompleteWrites(startedBefore date: Date) async throws -> Int {
        let cutoff = POSIXFile.sortableMilliseconds(date)
        var removed = 0
        for name in try POSIXFile.list(temporaryDirectory) {
            if name.hasSuffix(Self.resumableSuffix) {
                // A checkpointed write: abandoned once nobody has written it since the cut-off.
                let path = temporaryDirectory + "/" + name
                if Self.lastWritten(path, before: date), try Self.removeIfUnlocked(path) { removed += 1 }
                continue
            }
            guard let underscore = name.firstIndex(of: "_"), name.hasSuffix(".part") || name.hasSuffix(".tmp") else {
                continue
            }
            let started = String(name[..<underscore])
            guard started.count == cutoff.count, started.allSatisfy(\.isASCII), started < cutoff else { continue }
            if try Self.removeIfUnlocked(temporaryDirectory + "/" + name) { removed += 1 }
        }
        return removed
    }

    /// Removes a temp file unless a live writer holds its lock; `true` when it was removed.
    static func removeIfUnlocked(_ path: String) throws(ExportError) -> Bool {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { return false }
            throw POSIXFile.error(code, "opening", path)
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK { return false }
            throw POSIXFile.error(code, "locking", path)
        }
        // Unlinked while holding the lock: a writer locks its file before it starts writing.
        if unlink(path) != 0 {
            let code = errno
            if code == ENOENT { return false }
            throw POSIXFile.error(code, "deleting", path)
        }
        return true
    }

    // MARK: - Paths

    static func openForReading(_ path: String, key: BlobKey) throws(ExportError) -> Int32 {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 {
            var info = stat()
            guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                close(fd)
                throw ExportError(.notFound, "no blob \(key)")
            }
            return fd
        }
        let code = errno
        if code == ENOENT || code == ENOTDIR { throw ExportError(.notFound, "no blob \(key)") }
        throw POSIXFile.error(code, "opening", path)
    }

    /// The path of a blob, after checking that it cannot leave `blobs/`.
    func blobPath(_ key: BlobKey) throws(ExportError) -> String {
        try Self.checkedPath(base: blobsDirectory, segments: key.segments.map(String.init), key: key)
    }

    /// The path of a blob's metadata file, checked like ``blobPath(_:)``.
    func metaPath(_ key: BlobKey) throws(ExportError) -> String {
        var segments = key.segments.map(String.init)
        segments[segments.count - 1] += ".json"
        return try Self.checkedPath(base: metaDirectory, segments: segments, key: key)
    }

    /// Joins validated segments under `base`, refusing `.`/`..`/empty segments, and any existing
    /// component that is a symbolic link.
    static func checkedPath(base: String, segments: [String], key: BlobKey) throws(ExportError) -> String {
        var path = base
        for segment in segments {
            guard !segment.isEmpty, segment != ".", segment != "..", !segment.contains("/"), !segment.contains("\0") else {
                throw ExportError(.invalidKey, "blob key \(key) has a segment that could leave the store")
            }
            path += "/" + segment
            var info = stat()
            if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
                throw ExportError(.invalidKey, "blob key \(key) passes through a symbolic link; refusing to follow it")
            }
        }
        return path
    }

    /// Creates the directories of a blob's path, refusing symlinks and files in the way.
    func makeParentDirectories(of key: BlobKey, under base: String) throws(ExportError) {
        var path = base
        for segment in key.segments.dropLast() {
            path += "/" + segment
            if mkdir(path, 0o755) != 0 {
                let code = errno
                guard code == EEXIST else { throw POSIXFile.error(code, "creating directory", path) }
            }
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw ExportError(.invalidKey, "blob key \(key) conflicts with an existing file or link at \(path)")
            }
        }
    }
}

/// The content of a `meta/` file.
struct StoredMeta: Codable {
    var contentType: String
}

/// An open blob being read; closes its descriptor when the stream is released.
final class ReadHandle: Sendable {
    let fd: Int32
    let path: String
    let chunkSize: Int

    init(fd: Int32, path: String, chunkSize: Int) {
        self.fd = fd
        self.path = path
        self.chunkSize = chunkSize
    }

    deinit { close(fd) }

    func next() throws(ExportError) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw POSIXFile.error(code, "reading", path)
            }
            if count == 0 { return nil }
            chunk.removeLast(chunkSize - count)
            return chunk
        }
    }
}
