import Foundation

/// Storage for export files, written as a stream in parts (S3 multipart semantics).
///
/// ## Implementation requirements
/// - **Atomic visibility.** Nothing is readable under a key until ``BlobWriter/finish()`` returns;
///   then the whole file is. A reader never sees a partial file. Finishing replaces an existing blob
///   under the same key as a whole (the retry of a failed attempt writes the same key again).
/// - **Abort** discards everything written so far and is idempotent. A writer abandoned by a crashed
///   process must be removed by ``abortIncompleteWrites(startedBefore:)``.
/// - **Bounded memory.** A writer holds at most a fixed number of bytes (a part size) in memory,
///   whatever the file's size.
/// - **Keys stay inside the store.** Keys are ``BlobKey`` values, which cannot name a parent or an
///   absolute location; adapters map them under their root or bucket and nowhere else.
/// - **Delete is idempotent**: deleting a missing key succeeds.
/// - **Download links** expire: a link from ``downloadLink(for:filename:expiresIn:)`` stops working after
///   the given time, and cannot be altered to reach another key.
public protocol BlobStore: Sendable {
    /// Starts writing a blob.
    ///
    /// - Parameters:
    ///   - key: Where the blob will be stored.
    ///   - contentType: The MIME type to store it with.
    /// - Returns: A writer that accepts the bytes in order.
    /// - Throws: ``ExportError`` when the store cannot start the write.
    func beginWrite(key: BlobKey, contentType: String) async throws -> any BlobWriter

    /// Reads a blob as a stream of chunks.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Returns: The blob's bytes, in chunks of adapter-chosen size.
    /// - Throws: ``ExportError/Code/notFound`` when there is no such blob.
    func read(_ key: BlobKey) async throws -> AsyncThrowingStream<[UInt8], any Error>

    /// Describes a stored blob.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Returns: Its metadata, or `nil` when there is no such blob.
    /// - Throws: ``ExportError`` when the store fails.
    func metadata(_ key: BlobKey) async throws -> BlobMetadata?

    /// Deletes a blob; deleting a missing blob succeeds.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Throws: ``ExportError`` when the store fails.
    func delete(_ key: BlobKey) async throws

    /// Makes a time-limited link that downloads the blob.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    ///   - filename: The file name the browser should save it as.
    ///   - expiresIn: How long the link works.
    /// - Returns: The link and its expiry.
    /// - Throws: ``ExportError`` when no link can be made (for example, a lifetime longer than the
    ///   store allows).
    func downloadLink(for key: BlobKey, filename: String, expiresIn: Duration) async throws -> DownloadLink

    /// Removes writes that were started before `date` and never finished or aborted (their writer's
    /// process died).
    ///
    /// - Parameters:
    ///   - date: Only writes started before this moment are removed.
    /// - Returns: How many were removed.
    /// - Throws: ``ExportError`` when the store fails.
    @discardableResult
    func abortIncompleteWrites(startedBefore date: Date) async throws -> Int

    /// The longest lifetime ``downloadLink(for:filename:expiresIn:)`` accepts, or `nil` for no limit.
    ///
    /// ``ExportWorker`` checks its link lifetime against it when it is created, so a lifetime the store
    /// cannot sign fails at start-up with ``ExportError/Code/configuration`` instead of failing every
    /// export after its file was written. The default is `nil`.
    var maximumLinkLifetime: Duration? { get }

    /// Continues a write that a checkpoint left: the partial blob cut back to `point.size` bytes, with
    /// a writer that appends after them and finishes under `key`.
    ///
    /// - Parameters:
    ///   - key: The key the write was begun with.
    ///   - contentType: Its MIME type.
    ///   - point: What ``BlobWriter/checkpoint()`` returned.
    /// - Returns: The writer, or `nil` when the partial blob is gone, shorter than the point, or still
    ///   held by another writer; the caller then starts a fresh write. The default is `nil`.
    /// - Throws: ``ExportError`` when the store fails.
    func resumeWrite(key: BlobKey, contentType: String, from point: BlobResumePoint) async throws -> (any BlobWriter)?

    /// Removes the partial blob a checkpoint names, unless a live writer holds it. Idempotent.
    ///
    /// - Parameters:
    ///   - point: What ``BlobWriter/checkpoint()`` returned.
    /// - Throws: ``ExportError`` when the store fails.
    func discardWrite(_ point: BlobResumePoint) async throws
}

extension BlobStore {
    /// No limit, unless the store says otherwise.
    public var maximumLinkLifetime: Duration? { nil }
}

/// One blob being written. Calls are made in order, one at a time (each after the previous returned),
/// though not necessarily from the same task.
public protocol BlobWriter: Sendable {
    /// Appends bytes.
    ///
    /// - Parameters:
    ///   - bytes: The next bytes of the blob.
    /// - Throws: ``ExportError`` when the write fails; the caller then calls ``abort()``.
    func append(_ bytes: [UInt8]) async throws

    /// Completes the blob and makes it visible under its key, atomically.
    ///
    /// - Returns: The stored blob's metadata.
    /// - Throws: ``ExportError`` when completion fails; nothing becomes visible.
    func finish() async throws -> BlobMetadata

    /// Discards what was written. Idempotent; safe after a failed ``finish()``.
    ///
    /// - Throws: ``ExportError`` when the store could not discard the parts (they will be found by
    ///   ``BlobStore/abortIncompleteWrites(startedBefore:)``).
    func abort() async throws

    /// Makes every byte appended so far durable and says where a later write can continue from them.
    ///
    /// - Returns: The point, or `nil` when this writer cannot checkpoint now (the default: never).
    /// - Throws: ``ExportError`` when the bytes could not be made durable.
    func checkpoint() async throws -> BlobResumePoint?

    /// Stops writing and keeps what the last ``checkpoint()`` covers, for
    /// ``BlobStore/resumeWrite(key:contentType:from:)``; a writer that never checkpointed is aborted.
    /// The default aborts.
    ///
    /// - Throws: ``ExportError`` when the store could not release the write.
    func suspend() async throws
}

/// A stored blob's description.
public struct BlobMetadata: Hashable, Sendable, Codable {
    /// The blob's key.
    public var key: BlobKey
    /// Its size in bytes.
    public var size: Int64
    /// Its MIME type.
    public var contentType: String

    /// Creates metadata.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    ///   - size: Its size in bytes.
    ///   - contentType: Its MIME type.
    public init(key: BlobKey, size: Int64, contentType: String) {
        self.key = key
        self.size = size
        self.contentType = contentType
    }
}

/// A time-limited download link.
public struct DownloadLink: Hashable, Sendable, Codable {
    /// The URL.
    public var url: URL
    /// When it stops working.
    public var expiresAt: Date

    /// Creates a link.
    ///
    /// - Parameters:
    ///   - url: The URL.
    ///   - expiresAt: When it stops working.
    public init(url: URL, expiresAt: Date) {
        self.url = url
        self.expiresAt = expiresAt
    }
}
