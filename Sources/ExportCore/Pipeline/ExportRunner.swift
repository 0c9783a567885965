import Foundation

/// Runs one export attempt end to end: source pages → encoder → blob writer, hashing as it goes.
///
/// The runner holds a bounded number of pages of rows and of encoded output at a time, so memory does
/// not grow with the export's size. After every batch of appended pages it calls the checkpoint, where
/// the worker records the rows written and checks for task cancellation (its heartbeat runs on a timer
/// beside the runner); a checkpoint that throws stops the export and aborts the partial blob.
public struct ExportRunner: Sendable {
    /// What one successful run produced.
    public struct Output: Hashable, Sendable {
        /// The stored blob.
        public var blob: BlobMetadata
        /// The number of data rows.
        public var rows: Int64
        /// The SHA-256 of the stored bytes, lower-case hex.
        public var sha256: String
        /// The rows of the checkpoint this run continued after, or `nil` for a run from row zero.
        public var resumedAfterRow: Int64?

        /// Creates an output.
        ///
        /// - Parameters:
        ///   - blob: The stored blob.
        ///   - rows: The number of data rows.
        ///   - sha256: The checksum, lower-case hex.
        ///   - resumedAfterRow: The checkpoint's rows for a resumed run.
        public init(blob: BlobMetadata, rows: Int64, sha256: String, resumedAfterRow: Int64? = nil) {
            self.blob = blob
            self.rows = rows
            self.sha256 = sha256
            self.resumedAfterRow = resumedAfterRow
        }
    }

    private let source: any MembershipSource
    private let blobStore: any BlobStore
    private let pageSize: Int
    private let chunkSize: Int
    private let csvOptions: CSVOptions
    private let compressionLevel: Int
    private let pendingBytesLimit: Int

    /// Creates a runner.
    ///
    /// - Parameters:
    ///   - source: Where rows come from.
    ///   - blobStore: Where the file goes.
    ///   - pageSize: Rows per source page.
    ///   - chunkSize: Bytes per blob append.
    ///   - csvOptions: The CSV dialect.
    ///   - compressionLevel: The gzip level of `.csv.gz` files, 0 (store) to 9 (smallest), clamped; 6 by
    ///     default. Level 1 compresses several times faster for files about 20% larger.
    ///   - maxPendingBytes: How many encoded bytes may wait for a busy blob writer before encoding
    ///     waits too; 4 MiB by default, at least 1. It lets the encoder go on while the writer makes a
    ///     checkpoint durable (an fsync, a part upload), and bounds the memory that costs.
    public init(
        source: any MembershipSource, blobStore: any BlobStore, pageSize: Int = 1000, chunkSize: Int = 64 * 1024,
        csvOptions: CSVOptions = CSVOptions(), compressionLevel: Int = 6, maxPendingBytes: Int = 4 * 1024 * 1024
    ) {
        self.source = source
        self.blobStore = blobStore
        self.pageSize = max(1, pageSize)
        self.chunkSize = max(1, chunkSize)
        self.csvOptions = csvOptions
        self.compressionLevel = min(9, max(0, compressionLevel))
        self.pendingBytesLimit = max(1, maxPendingBytes)
    }

    /// How many rows an export of `job` will write, as the source counts them; `nil` when it cannot.
    ///
    /// - Parameters:
    ///   - job: The job (owner and range).
    /// - Returns: The count, or `nil`.
    /// - Throws: The source's error.
    public func rowCount(for job: ExportJob) async throws -> Int64? {
        try await source.membershipCount(of: job.owner, range: job.options.range)
    }

    /// What the runner reports after each batch of pages is appended (one page, unless pages waited
    /// for a busy writer).
    public struct Progress: Hashable, Sendable {
        /// The rows written so far (counting the rows a resumed run continued after).
        public var rows: Int64
        /// A checkpoint made at the batch's end, to be recorded before the export goes on; `nil` for
        /// most batches.
        public var checkpoint: ExportCheckpoint?
    }

    /// Exports a job's rows into a blob.
    ///
    /// - Parameters:
    ///   - job: The job (owner, format, columns).
    ///   - key: Where to store the file.
    ///   - checkpoint: Called after each batch of pages is appended, with the rows written so far;
    ///     throw to stop.
    /// - Returns: The stored blob, row count and checksum.
    /// - Throws: The first error of the source, the encoder, the blob store or the checkpoint; the
    ///   partial blob has been aborted by then.
    public func run(
        _ job: ExportJob,
        into key: BlobKey,
        checkpoint: (Int64) async throws -> Void
    ) async throws -> Output {
        try await run(job, into: key, resumingFrom: nil, checkpointRows: nil) { try await checkpoint($0.rows) }
    }

    /// Exports a job's rows into a blob, making checkpoints as it goes and continuing from one.
    ///
    /// Three things overlap, so a second core is used when there is one: the next source page is
    /// fetched while the current page is encoded, and earlier pages' chunks are hashed and appended
    /// meanwhile. Appends stay in order and one batch at a time (each starts after the previous one's
    /// have returned). While the writer is busy (a checkpoint's durable flush takes milliseconds),
    /// encoded pages wait for it, up to the runner's `maxPendingBytes`; then encoding waits too. So
    /// memory is bounded, whatever the export's size: two pages of rows (the one fetched, the one
    /// encoded), and encoded bytes of about twice that limit plus two pages (those waiting, and the
    /// batch being written).
    ///
    /// **Checkpoints.** At the first page boundary after every `checkpointRows` rows, the encoder ends
    /// its output there (``RowEncoder/writeCheckpoint(into:)``), the writer makes the bytes durable
    /// (``BlobWriter/checkpoint()``), and `progress` receives an ``ExportCheckpoint``. The boundaries
    /// depend only on the row count, the page size and `checkpointRows`, so a run resumed from a
    /// checkpoint writes exactly the bytes the uninterrupted run would have.
    ///
    /// **Resuming.** With `resumingFrom`, the runner reopens the checkpoint's partial blob and continues
    /// it (its key, not `key`, is where the file finishes: see ``Output/blob``). When that is not
    /// possible (the partial blob is gone or still held by a stalled writer, or the checkpoint's hash
    /// state is corrupt), it starts afresh under `key`.
    ///
    /// - Parameters:
    ///   - job: The job (owner, format, columns).
    ///   - key: Where to store the file when it starts afresh.
    ///   - resumingFrom: The checkpoint to continue from, or `nil`.
    ///   - checkpointRows: Rows between checkpoints, or `nil` for none.
    ///   - progress: Called after each batch of pages is appended (one page, unless pages waited for
    ///     a busy writer), with the rows written and the batch's checkpoint, if it made one; throw to
    ///     stop. Nothing more is appended until it returns, so a checkpoint it records covers the
    ///     stored bytes exactly.
    /// - Returns: The stored blob, row count, checksum and the row the run continued after.
    /// - Throws: The first error of the source, the encoder, the blob store or `progress`. The partial
    ///   blob has been aborted by then, unless a checkpoint covers some of it: then it is suspended
    ///   (``BlobWriter/suspend()``) for the next attempt to continue.
    public func run(
        _ job: ExportJob,
        into key: BlobKey,
        resumingFrom: ExportCheckpoint?,
        checkpointRows: Int?,
        progress: (Progress) async throws -> Void
    ) async throws -> Output {
        let columns = job.options.columns ?? ExportColumn.standard
        let contentType = job.options.format.contentType
        let rowEncoder = try job.options.format.makeEncoder(columns: columns, csv: csvOptions, compressionLevel: compressionLevel)
        var start = Start(key: key, cursor: nil, rows: 0, hasher: SHA256Hasher())
        var resumed: (any BlobWriter)?
        if let checkpoint = resumingFrom, let hasher = SHA256Hasher(resuming: checkpoint.sha256) {
            resumed = try await blobStore.resumeWrite(key: checkpoint.blobKey, contentType: contentType, from: checkpoint.upload)
            if resumed != nil {
                start = Start(key: checkpoint.blobKey, cursor: checkpoint.cursor, rows: checkpoint.rows, hasher: hasher)
            }
        }
        if let checkpoint = resumingFrom, resumed == nil {
            // Nobody will continue it: removed now unless a stalled writer still holds it. A failure
            // cannot matter to this export (it writes a file of its own) and the file is not lost
            // track of: the store's sweep of abandoned writes removes it later.
            try? await blobStore.discardWrite(checkpoint.upload)
        }
        var encoder =
            resumed == nil
            ? ChunkedEncoder(rowEncoder, chunkSize: chunkSize)
            : ChunkedEncoder(resuming: rowEncoder, rowsWritten: start.rows, chunkSize: chunkSize)
        let writer: any BlobWriter
        if let resumed { writer = resumed } else { writer = try await blobStore.beginWrite(key: key, contentType: contentType) }
        let interval = checkpointRows.map { max(1, $0) }
        var checkpointed = resumed != nil
        do {
            var hash = try await withThrowingTaskGroup(of: Stage.self) { group in
                try await pipeline(
                    job.owner, range: job.options.range, from: start, interval: interval, encoder: &encoder, writer: writer, group: &group
                ) { report in
                    if report.checkpoint != nil { checkpointed = true }
                    try await progress(report)
                }
            }
            let blob = try await writer.finish()
            return Output(blob: blob, rows: encoder.rowCount, sha256: hash.finalize().hexString, resumedAfterRow: resumed == nil ? nil : start.rows)
        } catch {
            // The export's own error is what the caller must see; a write that could not be suspended
            // or aborted is left to the store's sweep of abandoned writes, and a partial file that
            // could not be suspended is at worst not continued (the next attempt starts afresh).
            if checkpointed { try? await writer.suspend() } else { try? await writer.abort() }
            throw error
        }
    }

    /// Where a run starts: the key, cursor, rows and hash state of a fresh run or of a checkpoint.
    private struct Start {
        var key: BlobKey
        var cursor: PageCursor?
        var rows: Int64
        var hasher: SHA256Hasher
    }

    /// What a child task of ``run(_:into:resumingFrom:checkpointRows:progress:)`` hands back.
    private enum Stage: Sendable {
        /// A source page arrived.
        case fetched(Page<Membership>)
        /// A batch of pages' chunks was hashed and appended; the hasher comes back, with the rows written
        /// so far and the checkpoint made at the batch's end, if one was.
        case written(SHA256Hasher, rows: Int64, checkpoint: ExportCheckpoint?)
    }

    /// One encoded page waiting for the writer: its chunks, the rows written once they are, and the
    /// checkpoint's cursor when the page ends at one.
    private struct EncodedPage: Sendable {
        let chunks: [[UInt8]]
        let rows: Int64
        let boundary: PageCursor?
        let bytes: Int

        init(chunks: [[UInt8]], rows: Int64, boundary: PageCursor?) {
            self.chunks = chunks
            self.rows = rows
            self.boundary = boundary
            bytes = chunks.reduce(0) { $0 + $1.count }
        }
    }

    private func pipeline(
        _ owner: UserID, range: ExportTimeRange?, from start: Start, interval: Int?, encoder: inout ChunkedEncoder, writer: any BlobWriter,
        group: inout ThrowingTaskGroup<Stage, any Error>,
        progress: (Progress) async throws -> Void
    ) async throws -> SHA256Hasher {
        let source = source
        let limit = pageSize
        let key = start.key
        let queueLimit = pendingBytesLimit
        var fetched: Page<Membership>?
        // `nil` while a write stage holds it: the next write waits for it, so appends stay in order.
        var hasher: SHA256Hasher? = start.hasher
        // Encoded pages the busy writer has not taken yet, in order from `head`, and their bytes.
        var pending: [EncodedPage] = []
        var head = 0
        var pendingBytes = 0
        func record(_ stage: Stage) async throws {
            switch stage {
            case .fetched(let page): fetched = page
            case .written(let returned, let rows, let checkpoint):
                hasher = returned
                try await progress(Progress(rows: rows, checkpoint: checkpoint))
            }
        }
        func awaitStage() async throws {
            guard let stage = try await group.next() else { throw ExportError(.permanent, "export pipeline: no stage was running") }
            try await record(stage)
        }
        // Takes the pending pages for the writer when it is free (one write stage at a time), up to and
        // including the first that ends at a checkpoint: what comes after it is appended only once
        // `progress` has recorded the checkpoint.
        func takeBatch() -> (pages: [EncodedPage], hasher: SHA256Hasher)? {
            guard head < pending.count, let taken = hasher else { return nil }
            hasher = nil
            let end = (pending[head...].firstIndex { $0.boundary != nil } ?? pending.count - 1) + 1
            let batch = Array(pending[head..<end])
            head = end
            if head == pending.count {
                pending.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64, head * 2 >= pending.count {
                pending.removeFirst(head)  // amortized: each page is moved at most about once
                head = 0
            }
            pendingBytes -= batch.reduce(0) { $0 + $1.bytes }
            return (batch, taken)
        }
        // Hands the pending pages to a write stage beside the encoder.
        func dispatch() {
            guard let (batch, taken) = takeBatch() else { return }
            group.addTask { try await Self.write(batch, hashing: taken, into: writer, key: key) }
        }
        var cursor = start.cursor
        var lastBoundary = start.rows
        // The first page is fetched in this task: nothing else is running yet for a stage to overlap.
        fetched = try await source.memberships(of: owner, after: cursor, limit: limit, range: range)
        while true {
            try Task.checkCancellation()
            while fetched == nil {
                try await awaitStage()
                dispatch()
            }
            guard let page = fetched else { break }
            fetched = nil
            if page.next != nil, page.next == cursor {
                throw ExportError(.permanent, "the membership source returned the same cursor twice; export stopped")
            }
            cursor = page.next
            if let next = cursor {
                group.addTask { .fetched(try await source.memberships(of: owner, after: next, limit: limit, range: range)) }
            }
            // Encoded in place (a borrowed buffer).
            var chunks: [[UInt8]] = []
            try page.items.withUnsafeBufferPointer { rows in
                for index in rows.indices {
                    guard rows[index].userID == owner else {
                        throw ExportError(.permanent, "the membership source returned a row of another user; export stopped")
                    }
                    try encoder.write(rows[index])
                    while let chunk = encoder.takeChunk() { chunks.append(chunk) }
                }
            }
            let rows = encoder.rowCount
            var boundary: PageCursor?
            if let next = cursor, let interval, rows - lastBoundary >= Int64(interval) {
                chunks += try encoder.checkpoint()
                lastBoundary = rows
                boundary = next
            }
            if cursor == nil { chunks += try encoder.finish() }
            let encoded = EncodedPage(chunks: chunks, rows: rows, boundary: boundary)
            pending.append(encoded)
            pendingBytes += encoded.bytes
            // The last page: no fetch is running; what is left is written below.
            if cursor == nil { break }
            // A busy writer (a durable checkpoint, a slow store) holds the encoder up only once the
            // pages waiting for it reach the limit. Pending pages left after a dispatch mean a write is
            // running (it took the hasher), so there is always a stage to wait for.
            dispatch()
            while pendingBytes >= queueLimit {
                try await awaitStage()
                dispatch()
            }
        }
        // Only writes are left, one after the other: a write running beside is awaited, the rest are
        // written in this task (a one-page export starts no stage at all).
        while hasher == nil || head < pending.count {
            if let (batch, taken) = takeBatch() {
                try await record(try await Self.write(batch, hashing: taken, into: writer, key: key))
            } else {
                try await awaitStage()
            }
        }
        guard let hasher else { throw ExportError(.permanent, "export pipeline: the hasher did not come back") }
        return hasher
    }

    /// A write stage: hashes and appends a batch of pages' chunks in order, making the checkpoint the
    /// last page ends at; hands the hasher back with the rows written.
    private static func write(_ batch: [EncodedPage], hashing hasher: SHA256Hasher, into writer: any BlobWriter, key: BlobKey) async throws -> Stage {
        var hasher = hasher
        var checkpoint: ExportCheckpoint?
        for page in batch {
            for chunk in page.chunks {
                hasher.update(chunk)
                try await writer.append(chunk)
            }
            if let boundary = page.boundary, let point = try await writer.checkpoint() {
                checkpoint = ExportCheckpoint(blobKey: key, upload: point, cursor: boundary, rows: page.rows, sha256: hasher.snapshot)
            }
        }
        return .written(hasher, rows: batch[batch.count - 1].rows, checkpoint: checkpoint)
    }
}
