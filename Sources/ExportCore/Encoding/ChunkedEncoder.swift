/// Drives a ``RowEncoder`` and hands its output out in fixed-size chunks, never the whole file.
///
/// The encoder appends into one reused ``OutputBuffer``; whenever the buffer holds at least
/// ``chunkSize`` bytes, ``takeChunk()`` returns exactly ``chunkSize`` of them. Memory is bounded by
/// about twice the chunk size plus the largest single row, whatever the export's length.
///
/// One value drives one file: it holds the encoder's state (for `.csv.gz`, the compressor), so do
/// not copy it and keep using both copies.
///
/// ```swift
/// var chunks = ChunkedEncoder(try ExportFormat.csv.makeEncoder(columns: columns))
/// for row in page {
///     try chunks.write(row)
///     while let chunk = chunks.takeChunk() { try await writer.append(chunk) }
/// }
/// for chunk in try chunks.finish() { try await writer.append(chunk) }
/// ```
public struct ChunkedEncoder {
    /// The size of every chunk but the last.
    public let chunkSize: Int
    private var encoder: any RowEncoder
    private var buffer: OutputBuffer
    private var start = 0
    private var rows: Int64 = 0
    private var started = false

    /// Wraps an encoder.
    ///
    /// - Parameters:
    ///   - encoder: The row encoder.
    ///   - chunkSize: The chunk size; 64 KiB by default.
    public init(_ encoder: any RowEncoder, chunkSize: Int = 64 * 1024) {
        self.encoder = encoder
        self.chunkSize = max(1, chunkSize)
        self.buffer = OutputBuffer(minimumCapacity: self.chunkSize * 2)
    }

    /// Wraps an encoder that continues a checkpointed file: no header is written (the file has it),
    /// and rows are counted on from `rowsWritten`.
    ///
    /// - Parameters:
    ///   - encoder: A fresh row encoder with the file's settings.
    ///   - rowsWritten: The rows the checkpoint covers.
    ///   - chunkSize: The chunk size; 64 KiB by default.
    public init(resuming encoder: any RowEncoder, rowsWritten: Int64, chunkSize: Int = 64 * 1024) {
        self.init(encoder, chunkSize: chunkSize)
        rows = max(0, rowsWritten)
        started = true
    }

    /// The number of rows written so far.
    public var rowCount: Int64 { rows }

    /// The number of encoded bytes waiting to be taken.
    public var pendingByteCount: Int { buffer.count - start }

    /// Writes one row (and, before the first, the header).
    ///
    /// When the encoder throws, the partial row is discarded from the output, so the bytes handed out
    /// so far end on a row boundary (for uncompressed formats); the file should still be abandoned.
    /// The same holds for the header: when it fails, nothing of it is kept and the next call tries it
    /// again.
    ///
    /// - Parameters:
    ///   - row: The row.
    /// - Throws: ``ExportError/Code/encoding`` from the encoder.
    public mutating func write(_ row: Membership) throws(ExportError) {
        try startIfNeeded()
        let mark = buffer.count
        do {
            try encoder.write(row, rowNumber: rows + 1, into: &buffer)
        } catch {
            buffer.count = mark
            throw error
        }
        rows += 1
    }

    /// Takes one full chunk if one is ready. Call it until it returns `nil` after each write.
    ///
    /// - Returns: Exactly ``chunkSize`` bytes, or `nil` when fewer are buffered.
    public mutating func takeChunk() -> [UInt8]? {
        guard buffer.count - start >= chunkSize else {
            compact()
            return nil
        }
        let chunk = buffer.bytes(in: start..<(start + chunkSize))
        start += chunkSize
        return chunk
    }

    /// Writes the trailer (and the header, if no row was written) and returns everything left.
    ///
    /// - Returns: The remaining chunks, each at most ``chunkSize`` bytes; empty when nothing is left.
    /// - Throws: ``ExportError/Code/encoding`` from the encoder.
    public mutating func finish() throws(ExportError) -> [[UInt8]] {
        try startIfNeeded()
        try encoder.writeTrailer(into: &buffer)
        return drain()
    }

    /// Ends the output at a checkpoint (``RowEncoder/writeCheckpoint(into:)``: for `.csv.gz` the gzip
    /// member ends) and returns everything buffered, so the bytes handed out so far are a prefix that
    /// ``init(resuming:rowsWritten:chunkSize:)`` can continue.
    ///
    /// - Returns: The remaining chunks, each at most ``chunkSize`` bytes.
    /// - Throws: ``ExportError/Code/encoding`` from the encoder.
    public mutating func checkpoint() throws(ExportError) -> [[UInt8]] {
        try startIfNeeded()
        try encoder.writeCheckpoint(into: &buffer)
        return drain()
    }

    /// Everything buffered, in chunks of at most ``chunkSize`` bytes.
    private mutating func drain() -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        while start < buffer.count {
            let end = min(buffer.count, start + chunkSize)
            chunks.append(buffer.bytes(in: start..<end))
            start = end
        }
        buffer.removeAll()
        start = 0
        return chunks
    }

    /// Writes the header once. A header that fails leaves nothing behind (no byte-order mark, no part of
    /// the header) and is tried again by the next call, so no row is ever written without its header.
    private mutating func startIfNeeded() throws(ExportError) {
        guard !started else { return }
        let mark = buffer.count
        do {
            try encoder.writeHeader(into: &buffer)
        } catch {
            buffer.count = mark
            throw error
        }
        started = true
    }

    private mutating func compact() {
        guard start > 0 else { return }
        buffer.removeFirst(start)
        start = 0
    }
}
