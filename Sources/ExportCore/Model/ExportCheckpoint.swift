/// How far a running export got, durably: enough for the next attempt to continue after a crash or a
/// hand-back instead of starting from row zero.
///
/// ``ExportRunner`` makes one every ``ExportWorker/Configuration/checkpointRows`` rows, at a page boundary, once the
/// blob store has made the bytes so far durable (``BlobWriter/checkpoint()``); the worker records it in
/// the job (``ExportJob/checkpoint``) under its lease. The next attempt reopens the partial blob
/// (``BlobStore/resumeWrite(key:contentType:from:)``), reads the source from ``cursor``, and goes on
/// hashing from ``sha256``, so its file, row count and checksum are those of an uninterrupted run.
public struct ExportCheckpoint: Hashable, Sendable, Codable {
    /// The key the partial blob finishes under (the attempt that began it chose it).
    public var blobKey: BlobKey
    /// The partial blob and the bytes the checkpoint covers.
    public var upload: BlobResumePoint
    /// The source cursor after the last row the checkpoint covers.
    public var cursor: PageCursor
    /// The rows the checkpoint covers.
    public var rows: Int64
    /// The SHA-256 state after the bytes the checkpoint covers.
    public var sha256: SHA256Hasher.Snapshot

    /// Creates a checkpoint.
    ///
    /// - Parameters:
    ///   - blobKey: The key the partial blob finishes under.
    ///   - upload: The partial blob and the bytes covered.
    ///   - cursor: The source cursor after the last row covered.
    ///   - rows: The rows covered.
    ///   - sha256: The hash state after the bytes covered.
    public init(blobKey: BlobKey, upload: BlobResumePoint, cursor: PageCursor, rows: Int64, sha256: SHA256Hasher.Snapshot) {
        self.blobKey = blobKey
        self.upload = upload
        self.cursor = cursor
        self.rows = rows
        self.sha256 = sha256
    }
}
