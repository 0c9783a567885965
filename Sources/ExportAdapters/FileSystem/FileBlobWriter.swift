#if canImport(Glibc)
import Glibc
#endif
import ExportCore
import Foundation
import Synchronization

/// A `BlobWriter` of ``FileBlobStore``: appends go straight to a temp file (no buffering beyond the
/// caller's chunk); ``finish()`` fsyncs and renames it into place; ``abort()`` removes it.
///
/// The writer holds an exclusive `flock` on its temp file from creation until it is renamed or removed,
/// so ``FileBlobStore/abortIncompleteWrites(startedBefore:)`` never removes the file of a live writer,
/// however slow. The kernel drops the lock when the descriptor is closed or the process dies.
final class FileBlobWriter: BlobWriter {
    private struct State {
        var fd: Int32?
        var size: Int64 = 0
        var finished: BlobMetadata?
    }

    private let store: FileBlobStore
    private let key: BlobKey
    private let contentType: String
    private let temporaryPath: String
    private let state: Mutex<State>
    private let closeDescriptor: @Sendable (Int32) -> Int32

    /// Wraps an open temp file (tests may pass any descriptor, such as `/dev/full`, and a `close` that
    /// counts calls).
    init(
        store: FileBlobStore, key: BlobKey, contentType: String, temporaryPath: String, fd: Int32,
        close closeDescriptor: @escaping @Sendable (Int32) -> Int32 = { close($0) }
    ) {
        self.closeDescriptor = closeDescriptor
        self.store = store
        self.key = key
        self.contentType = contentType
        self.temporaryPath = temporaryPath
        state = Mutex(State(fd: fd))
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
            try POSIXFile.writeAll(fd, bytes, path: temporaryPath)
            state.size += Int64(bytes.count)
        }
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
                try POSIXFile.sync(fd, path: temporaryPath, durability: store.configuration.durability)
                try publish()
            } catch {
                _ = closeDescriptor(fd)
                unlink(temporaryPath)
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
        let (fd, finished) = state.withLock { state in
            defer { state.fd = nil }
            return (state.fd, state.finished != nil)
        }
        // Removed before the lock is dropped, so no sweep races with the removal.
        var failure: ExportError?
        if !finished {
            do throws(ExportError) { try POSIXFile.remove(temporaryPath) } catch { failure = error }
        }
        if let fd { _ = closeDescriptor(fd) }
        if let failure { throw failure }
    }

    /// Writes the content type, then renames the temp file over the key and syncs its directory.
    private func publish() throws(ExportError) {
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
