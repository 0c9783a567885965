/// Where a checkpointed blob write can be continued: the adapter's name for the partial blob and how
/// many of its bytes the checkpoint covers.
///
/// ``BlobWriter/checkpoint()`` returns one; ``ExportCheckpoint`` records it in the job; a later attempt
/// passes it to ``BlobStore/resumeWrite(key:contentType:from:)``, which cuts the partial blob back to
/// ``size`` bytes and goes on appending after them.
public struct BlobResumePoint: Hashable, Sendable, Codable {
    /// The adapter's name for the partial blob (a temp file's name, an upload id). Adapters validate it
    /// before use: it comes back from a stored record.
    public var token: String
    /// The bytes the checkpoint covers, all durable when the point was made.
    public var size: Int64

    /// Creates a point.
    ///
    /// - Parameters:
    ///   - token: The adapter's name for the partial blob.
    ///   - size: The bytes the checkpoint covers.
    public init(token: String, size: Int64) {
        self.token = token
        self.size = size
    }
}

/// Resumable writes are optional: a store that does not offer them keeps these defaults, and every
/// export then starts from row zero, as before.
///
/// ## Implementation requirements
/// - ``BlobWriter/checkpoint()`` makes every byte appended so far survive a crash of the process (and,
///   where the store promises it, a power loss) before it returns a point.
/// - ``BlobStore/resumeWrite(key:contentType:from:)`` returns `nil`, never a writer, when the partial
///   blob is gone, shorter than the point, or held by a writer that is still alive (a stalled worker's):
///   two writers must never append to one partial blob.
/// - A partial blob that a point names is kept by ``BlobStore/abortIncompleteWrites(startedBefore:)``
///   until it has not been written for the given age.
extension BlobWriter {
    /// No checkpoints: the export restarts from row zero after a crash.
    public func checkpoint() async throws -> BlobResumePoint? { nil }

    /// Without checkpoints there is nothing to keep: the write is aborted.
    public func suspend() async throws { try await abort() }
}

extension BlobStore {
    /// No resumable writes.
    public func resumeWrite(key: BlobKey, contentType: String, from point: BlobResumePoint) async throws -> (any BlobWriter)? { nil }

    /// No resumable writes, so nothing to discard.
    public func discardWrite(_ point: BlobResumePoint) async throws {}
}
