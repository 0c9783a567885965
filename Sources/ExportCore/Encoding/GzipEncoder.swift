/// Compresses another encoder's output with gzip as it streams (`.csv.gz`), through the system zlib.
///
/// The inner encoder writes into a private buffer; every time that holds ``blockSize`` bytes, they are
/// deflated into the caller's buffer. Memory stays bounded (one block, plus zlib's fixed state of about
/// 256 KiB) whatever the file's length. The output is one gzip member (one per checkpoint of a resumable export) that `gzip -d`, Python's
/// `gzip` module and browsers read.
///
/// An encoder is for one file: copies share the compressor, so use only one of them.
public struct GzipEncoder<Inner: RowEncoder>: RowEncoder {
    /// How many uncompressed bytes are collected before they are deflated.
    public static var blockSize: Int { 64 * 1024 }

    private var inner: Inner
    private var pending: OutputBuffer
    private let stream: DeflateStream

    /// Wraps an encoder.
    ///
    /// - Parameters:
    ///   - inner: The encoder whose output is compressed.
    ///   - level: The zlib level: 0 (store) to 9 (smallest); 6 is zlib's default balance, 1 the fastest.
    /// - Throws: ``ExportError/Code/configuration`` for a level outside 0…9; ``ExportError/Code/transient``
    ///   when zlib cannot allocate its state.
    public init(_ inner: Inner, level: Int = 6) throws(ExportError) {
        self.inner = inner
        self.pending = OutputBuffer(minimumCapacity: Self.blockSize * 2)
        self.stream = try DeflateStream(level: level)
    }

    /// Writes the inner header into the compressed stream.
    ///
    /// When the inner encoder throws, whatever part of the header it wrote is discarded, so nothing of
    /// it reaches the compressed stream.
    ///
    /// - Parameters:
    ///   - buffer: The output buffer, which receives compressed bytes.
    /// - Throws: ``ExportError/Code/encoding`` from the inner encoder or zlib.
    public mutating func writeHeader(into buffer: inout OutputBuffer) throws(ExportError) {
        let mark = pending.count
        do {
            try inner.writeHeader(into: &pending)
        } catch {
            pending.count = mark
            throw error
        }
        try flushIfFull(into: &buffer)
    }

    /// Writes one row into the compressed stream.
    ///
    /// When the inner encoder throws, the partial row is discarded before it is compressed.
    ///
    /// - Parameters:
    ///   - row: The row.
    ///   - rowNumber: The row's number, counted from 1, for error messages.
    ///   - buffer: The output buffer, which receives compressed bytes.
    /// - Throws: ``ExportError/Code/encoding`` from the inner encoder or zlib.
    public mutating func write(_ row: Membership, rowNumber: Int64, into buffer: inout OutputBuffer) throws(ExportError) {
        let mark = pending.count
        do {
            try inner.write(row, rowNumber: rowNumber, into: &pending)
        } catch {
            pending.count = mark
            throw error
        }
        try flushIfFull(into: &buffer)
    }

    /// Writes the inner trailer, compresses everything left and ends the gzip stream.
    ///
    /// - Parameters:
    ///   - buffer: The output buffer, which receives compressed bytes.
    /// - Throws: ``ExportError/Code/encoding`` from the inner encoder or zlib.
    public mutating func writeTrailer(into buffer: inout OutputBuffer) throws(ExportError) {
        try inner.writeTrailer(into: &pending)
        try compressPending(finish: true, into: &buffer)
    }

    /// Compresses everything written so far and ends the gzip member; the next row starts a new member,
    /// exactly as a fresh encoder's first row would (the compressor is reset, not carried over).
    ///
    /// - Parameters:
    ///   - buffer: The output buffer, which receives compressed bytes.
    /// - Throws: ``ExportError/Code/encoding`` from zlib.
    public mutating func writeCheckpoint(into buffer: inout OutputBuffer) throws(ExportError) {
        try inner.writeCheckpoint(into: &pending)
        let stream = self.stream
        try pending.withUnsafeBytes { (bytes) throws(ExportError) in
            try stream.compress(bytes, finish: true, restart: true, into: &buffer)
        }
        pending.removeAll()
    }

    @inline(__always)
    private mutating func flushIfFull(into buffer: inout OutputBuffer) throws(ExportError) {
        if pending.count >= Self.blockSize { try compressPending(finish: false, into: &buffer) }
    }

    private mutating func compressPending(finish: Bool, into buffer: inout OutputBuffer) throws(ExportError) {
        let stream = self.stream
        try pending.withUnsafeBytes { (bytes) throws(ExportError) in
            try stream.compress(bytes, finish: finish, into: &buffer)
        }
        pending.removeAll()
    }
}
