#if canImport(Glibc)
import Glibc
#endif
import ExportCore
import Foundation
import Synchronization

/// A `BlobWriter` of ``FileBlobStore``: appends go straight to a temp file (no buffering beyond the
/// caller's chunk); ``finish()`` fsyncs and renames it into place; ``abort()`` removes it;
/// ``checkpoint()`` fsyncs it and marks it resumable, and ``suspend()`` then closes it and keeps it for
/// ``FileBlobStore/resumeWrite(key:contentType:from:)``.
///
/// The writer holds an exclusive `flock` on its temp file from creation until it is renamed or removed,
/// so ``FileBlobStore/abortIncompleteWrites(startedBefore:)`` never removes the file of a live writer,
/// however slow. The kernel drops the lock when the descriptor is closed or the process dies.
final class FileBlobWriter: BlobWriter {
    private struct State {
        var fd: Int32?
        var size: Int64 = 0
        var finished: BlobMetadata?
        /// The temp file: `tmp/<started>_<random>.part`, renamed to `.resumable` at the first checkpoint.
        var temporaryPath: String
        /// Whether a checkpoint names the file, so ``suspend()`` keeps it.
        var resumable = false
    }

    private let store: FileBlobStore
    private let key: BlobKey
    private let contentType: String
    private let state: Mutex<State>
    private let closeDescriptor: @Sendable (Int32) -> Int32

    /// Wraps an open temp file (tests may pass any descriptor, such as `/dev/full`, and a `close` that
    /// counts calls).
    init(
        store: FileBlobStore, key: BlobKey, contentType: String, temporaryPath: String, fd: Int32,
        resumedAt size: Int64? = nil,
        close closeDescriptor: @escaping @Sendable (Int32) -> Int32 = { close($0) }
    ) {
        self.closeDescriptor = closeDescriptor
        self.store = store
        self.key = key
        self.contentType = contentType
        state = Mutex(State(fd: fd, size: size ?? 0, temporaryPath: temporaryPath, resumable: size != nil))
    }

    deinit {
        state.withLock { state in
            if let fd = state.fd { _ = closeDescriptor(fd) }
        }
    }

    func append(_ bytes: [UInt8]) async throws {
        try state.withLock { (state: inout State) throws(ExportError) in
            guard let fd = state.fd else {
                throw ExportError(.invalidRequest, "the write of \(key) was already finished or aborted")
            }
            try POSIXFile.writeAll(fd, bytes, path: state.temporaryPath)
            state.size += Int64(bytes.count)
        }
    }

    /// Syncs the file (as the store's durability says) and, the first time, renames it from `.part` to
    /// `.resumable`, so opening a store no longer removes it and the sweep of abandoned writes goes by
    /// its last write instead of its start.
    ///
    /// - Returns: The file's name (without `.resumable`) and its size.
    /// - Throws: ``ExportError`` when the sync or the rename fails.
    func checkpoint() async throws -> BlobResumePoint? {
        try state.withLock { (state: inout State) throws(ExportError) -> BlobResumePoint? in
            guard let fd = state.fd else {
                throw ExportError(.invalidRequest, "the write of \(key) was already finished or aborted")
            }
            try POSIXFile.sync(fd, path: state.temporaryPath, durability: store.configuration.durability)
            if !state.resumable {
                let resumable = FileBlobStore.resumablePath(of: state.temporaryPath)
                // Renamed while the lock is held (it follows the open file), so no sweep can take it.
                try POSIXFile.renameDurably(state.temporaryPath, to: resumable, durability: store.configuration.durability)
                state.temporaryPath = resumable
                state.resumable = true
            }
            return BlobResumePoint(token: FileBlobStore.resumeToken(of: state.temporaryPath), size: state.size)
        }
    }

    /// Closes the file without removing it once a checkpoint names it (dropping its lock, so the next
    /// attempt can take it over); before any checkpoint, the same as ``abort()``.
    func suspend() async throws {
        let keep = state.withLock { (state: inout State) -> Bool in
            guard state.resumable, state.finished == nil, let fd = state.fd else { return false }
            state.fd = nil
            _ = closeDescriptor(fd)
            return true
        }
        if !keep { try await abort() }
    }

    func finish() async throws -> BlobMetadata {
        try state.withLock { (state: inout State) throws(ExportError) -> BlobMetadata in
            if let finished = state.finished { return finished }
            guard let fd = state.fd else {
                throw ExportError(.invalidRequest, "the write of \(key) was aborted")
            }
            state.fd = nil
            // The descriptor stays open (holding the temp file's `flock`, so a sweep of abandoned writes
            // leaves it alone) until the file is renamed into place, and is closed exactly once: after a
            // close the number may already belong to another file.
            do throws(ExportError) {
                try POSIXFile.sync(fd, path: state.temporaryPath, durability: store.configuration.durability)
                try publish(state.temporaryPath)
            } catch {
                _ = closeDescriptor(fd)
                unlink(state.temporaryPath)
                throw error
            }
            // The data is synced and renamed; a failing close cannot lose it.
            _ = closeDescriptor(fd)
            let metadata = BlobMetadata(key: key, size: state.size, contentType: contentType)
            state.finished = metadata
            return metadata
        }
    }

    func abort() async throws {
        let (fd, path) = state.withLock { state in
            defer { state.fd = nil }
            return (state.fd, state.temporaryPath)
        }
        // Removed before the lock is dropped, so no sweep races with the removal. Without a descriptor
        // there is nothing to remove: the write was finished, aborted, or suspended (the file then
        // belongs to the next attempt).
        var failure: ExportError?
        if fd != nil {
            do throws(ExportError) { try POSIXFile.remove(path) } catch { failure = error }
        }
        if let fd { _ = closeDescriptor(fd) }
        if let failure { throw failure }
    }

    /// Writes the content type, then renames the temp file over the key and syncs its directory.
    private func publish(_ temporaryPath: String) throws(ExportError) {
        let meta: [UInt8]
        do {
            meta = Array(try JSONEncoder().encode(StoredMeta(contentType: contentType)))
        } catch {
            throw ExportError(.encoding, "cannot encode the metadata of \(key)", cause: error)
        }
        try store.makeParentDirectories(of: key, under: store.metaDirectory)
        try POSIXFile.writeAtomically(
            meta, to: try store.metaPath(key), temporaryDirectory: store.temporaryDirectory, durability: store.configuration.durability)
        try store.makeParentDirectories(of: key, under: store.blobsDirectory)
        let destination = try store.blobPath(key)
        var info = stat()
        if lstat(destination, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw ExportError(.invalidKey, "blob key \(key) names an existing directory (another key is below it)")
        }
        try POSIXFile.renameDurably(temporaryPath, to: destination, durability: store.configuration.durability)
    }
}
