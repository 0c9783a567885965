/// Turns rows into bytes, appending to a caller-owned, reused ``OutputBuffer``.
///
/// Encoders are synchronous and do no I/O; ``ChunkedEncoder`` drives one and cuts its output into
/// fixed-size chunks for a ``BlobWriter``. ``ExportFormat/makeEncoder(columns:csv:compressionLevel:)``
/// builds the encoder for a format. An encoder is used for one file: it may keep state between calls
/// (a compressor does), so do not copy one and use both copies.
public protocol RowEncoder {
    /// Appends what comes before the first row (a byte-order mark, a header line).
    ///
    /// - Parameters:
    ///   - buffer: The output buffer.
    /// - Throws: ``ExportError/Code/encoding`` when the header cannot be written in this format.
    mutating func writeHeader(into buffer: inout OutputBuffer) throws(ExportError)

    /// Appends one row.
    ///
    /// - Parameters:
    ///   - row: The row.
    ///   - rowNumber: The row's number, counted from 1, for error messages.
    ///   - buffer: The output buffer.
    /// - Throws: ``ExportError/Code/encoding`` naming the row and column when a value cannot be carried.
    mutating func write(_ row: Membership, rowNumber: Int64, into buffer: inout OutputBuffer) throws(ExportError)

    /// Appends what comes after the last row.
    ///
    /// - Parameters:
    ///   - buffer: The output buffer.
    /// - Throws: ``ExportError/Code/encoding`` when the trailer cannot be written.
    mutating func writeTrailer(into buffer: inout OutputBuffer) throws(ExportError)

    /// Ends the output so far at a point a later encoder can continue from, for a resumable export's
    /// checkpoint: afterwards the bytes written are complete on their own, and an encoder made with
    /// the same settings, given no header, writes exactly what this one would write next.
    ///
    /// Plain formats need nothing; `.csv.gz` ends its gzip member here and starts the next one (a file of
    /// several members is one valid gzip file, RFC 1952 section 2.2).
    ///
    /// - Parameters:
    ///   - buffer: The output buffer.
    /// - Throws: ``ExportError/Code/encoding`` when the output cannot be ended here.
    mutating func writeCheckpoint(into buffer: inout OutputBuffer) throws(ExportError)
}

extension RowEncoder {
    /// Writes nothing: most formats have no trailer.
    ///
    /// - Parameters:
    ///   - buffer: The output buffer.
    public mutating func writeTrailer(into buffer: inout OutputBuffer) throws(ExportError) {}

    /// Writes nothing: a row boundary is a checkpoint for formats without state across rows.
    ///
    /// - Parameters:
    ///   - buffer: The output buffer.
    public mutating func writeCheckpoint(into buffer: inout OutputBuffer) throws(ExportError) {}
}
