import Foundation

/// Writes CSV records field by field, straight into an ``OutputBuffer`` it owns, with no
/// ``CellValue`` array: for hosts that hold their values as strings or UTF-8 bytes and lend them to
/// the encoder rather than copy them into cells (as a Rust program lends `&str` to the `csv` crate).
///
/// Each field call writes the next column's field: the delimiter before it (after the first), quotes
/// and doubled quotes when the value needs them, and the formula guard when
/// ``CSVOptions/neutralizeFormulas`` is on (for text). ``endRecord(rowNumber:)`` ends the line. The
/// output is byte for byte what ``CSVEncoder/write(cells:rowNumber:into:)`` writes for the same values
/// as cells: fields past the last column are ignored, columns left unwritten are missing values.
///
/// ```swift
/// var writer = CSVRecordWriter(encoder: encoder)
/// try writer.writeHeader()
/// for (number, member) in members.enumerated() {
///     writer.integer(member.id)
///     writer.text(member.name)    // lent, not copied into a cell
///     writer.null()
///     try writer.endRecord(rowNumber: Int64(number + 1))
///     if writer.count >= 1 << 16 { try writer.drain { bytes in try sink.write(bytes) } }
/// }
/// try writer.drain { bytes in try sink.write(bytes) }
/// ```
///
/// The writer is inlinable and owns its buffer alone (it cannot be copied), so a string is written
/// straight from its storage, without a retain, a cell or a per-field uniqueness check.
public struct CSVRecordWriter: ~Copyable {
    @usableFromInline var buffer: OutputBuffer
    @usableFromInline let encoder: CSVEncoder
    @usableFromInline let columnCount: Int
    @usableFromInline let delimiter: UInt8
    @usableFromInline let quoteAll: Bool
    @usableFromInline let neutralize: Bool
    @usableFromInline let quoteMissing: Bool
    @usableFromInline let crlf: Bool
    /// The next column's index.
    @usableFromInline var column = 0
    /// Where the record being written starts.
    @usableFromInline var recordStart: Int
    /// The first field of this record that could not be written.
    @usableFromInline var failure: CellFailure?

    /// Creates a writer that appends to `buffer`.
    ///
    /// - Parameters:
    ///   - encoder: The columns and the dialect.
    ///   - buffer: The buffer to append to; ``finish()`` hands it back.
    @inlinable
    public init(encoder: CSVEncoder, buffer: consuming OutputBuffer = OutputBuffer(minimumCapacity: 1 << 17)) {
        buffer.makeUnique()
        recordStart = buffer.count
        self.buffer = buffer
        self.encoder = encoder
        columnCount = encoder.columns.count
        delimiter = encoder.delimiter
        quoteAll = encoder.quoteAll
        neutralize = encoder.neutralize
        quoteMissing = encoder.quoteMissing
        crlf = encoder.crlf
    }

    /// The number of bytes in the buffer, the record being written included.
    @inlinable
    public var count: Int { buffer.count }

    /// Appends the byte-order mark (if enabled) and the header row (if enabled), as
    /// ``CSVEncoder/writeHeader(into:)`` does; call it before the first field.
    ///
    /// - Throws: ``ExportError/Code/encoding`` when a column name contains NUL.
    public mutating func writeHeader() throws(ExportError) {
        var encoder = encoder
        try encoder.writeHeader(into: &buffer)
        buffer.makeUnique()
        column = 0
        recordStart = buffer.count
    }

    /// Ends the record: fills the columns left unwritten with missing values and ends the line.
    ///
    /// On failure the record is taken back: the buffer is left as it was before its first field, and
    /// the writer is ready for the next record.
    ///
    /// - Parameters:
    ///   - rowNumber: The row's number, counted from 1, for error messages.
    /// - Throws: ``ExportError/Code/encoding`` naming the row and the first failing column for text
    ///   containing NUL or a date outside the years 0000…9999.
    @inlinable @inline(__always)
    public mutating func endRecord(rowNumber: Int64) throws(ExportError) {
        while column < columnCount { null() }
        column = 0
        if _slowPath(failure != nil) { throw takeBack(rowNumber: rowNumber) }
        if crlf {
            let out = buffer.reserveAssumingUnique(2)
            out[0] = 0x0D
            out[1] = 0x0A
            buffer.written &+= 2
        } else {
            buffer.appendAssumingUnique(0x0A)
        }
        recordStart = buffer.count
    }

    /// Hands the finished records to `body` and then removes them from the buffer (keeping its
    /// allocation and the fields of a record not yet ended).
    ///
    /// - Parameters:
    ///   - body: Reads the bytes (writes them to a file, a socket); the pointer must not escape it.
    ///     When it throws, nothing is removed.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public mutating func drain<Result, Failure: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result) throws(Failure) -> Result {
        let finished = recordStart
        let result = try buffer.withUnsafeBytes { bytes throws(Failure) in try body(UnsafeBufferPointer(rebasing: bytes[0..<finished])) }
        buffer.removeFirst(finished)
        recordStart = 0
        return result
    }

    /// Ends the writer and hands back the buffer, with every ended record; the fields of a record not
    /// ended are left out.
    public consuming func finish() -> OutputBuffer {
        buffer.count = recordStart
        return buffer
    }

    @usableFromInline
    mutating func takeBack(rowNumber: Int64) -> ExportError {
        let failure = failure!
        self.failure = nil
        buffer.count = recordStart
        return CSVEncoder.unwritable(row: rowNumber, column: encoder.columns[failure.column], failure.what)
    }

    /// Writes a text field from a string's UTF-8 storage, without copying the string.
    ///
    /// - Parameters:
    ///   - text: The text; a NUL in it fails the record (see ``CSVEncoder``).
    @inlinable @inline(__always)
    public mutating func text(_ text: borrowing String) {
        let written: Void? = text.utf8.withContiguousStorageIfAvailable { self.text(utf8: $0) }
        if written == nil { textFromCopy(copy text) }
    }

    /// Writes a text field from UTF-8 bytes the caller holds (a pool, a database driver's buffer).
    ///
    /// The bytes are written as they are: the caller makes sure they are valid UTF-8.
    ///
    /// - Parameters:
    ///   - bytes: The field's UTF-8 bytes, read only during the call; a NUL in them fails the record.
    @inlinable @inline(__always)
    public mutating func text(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard column < columnCount else { return }
        let index = column
        column &+= 1
        let count = bytes.count
        let out = buffer.reserveAssumingUnique(count &+ 1)
        let separator = index > 0 ? 1 : 0
        out[0] = delimiter
        if let base = bytes.baseAddress, count > 0, !quoteAll, !(neutralize && CSVOptions.isFormulaTrigger(base[0])),
            !CSVScanner.needsQuoting(bytes, delimiter: delimiter)
        {
            CSVScanner.copy(base, count: count, to: out + separator)
            buffer.written &+= separator &+ count
            return
        }
        buffer.written &+= separator
        quoted(bytes, column: index)
    }

    /// Writes a whole number in plain decimal notation.
    ///
    /// - Parameters:
    ///   - value: The number.
    @inlinable @inline(__always)
    public mutating func integer(_ value: Int64) {
        guard column < columnCount else { return }
        let index = column
        column &+= 1
        // A delimiter, a quote, a sign, 19 digits and a quote.
        let out = buffer.reserveAssumingUnique(23)
        var length = 0
        if index > 0 {
            out[0] = delimiter
            length = 1
        }
        if quoteAll {
            out[length] = 0x22
            length &+= 1
        }
        if value < 0 {
            out[length] = UInt8(ascii: "-")
            length &+= 1
        }
        var magnitude = value.magnitude
        length &+= OutputBuffer.writeDigits(of: &magnitude, minimumDigits: 1, to: out + length)
        if quoteAll {
            out[length] = 0x22
            length &+= 1
        }
        buffer.written &+= length
    }

    /// Writes a missing value: an empty, unquoted field (`""` in a one-column file, see ``CSVEncoder``).
    @inlinable @inline(__always)
    public mutating func null() {
        guard column < columnCount else { return }
        let index = column
        column &+= 1
        let out = buffer.reserveAssumingUnique(3)
        var length = 0
        if index > 0 {
            out[0] = delimiter
            length = 1
        }
        if quoteMissing {
            out[length] = 0x22
            out[length &+ 1] = 0x22
            length &+= 2
        }
        buffer.written &+= length
    }

    /// Writes a field of any kind, as ``CSVEncoder/write(cells:rowNumber:into:)`` writes that cell.
    ///
    /// - Parameters:
    ///   - cell: The value.
    @inlinable
    public mutating func cell(_ cell: borrowing CellValue) {
        switch cell {
        case .text(let text): self.text(text)
        case .integer(let value): integer(value)
        case .null: null()
        default: typed(copy cell)
        }
    }

    /// A date, a decimal or a boolean: rare enough here to be a call.
    @usableFromInline
    mutating func typed(_ cell: CellValue) {
        guard column < columnCount else { return }
        let index = column
        column &+= 1
        if index > 0 { buffer.appendAssumingUnique(delimiter) }
        if quoteAll { buffer.appendAssumingUnique(0x22) }
        switch cell {
        case .date(let date):
            if !buffer.appendDate(date), failure == nil { failure = CellFailure.date(date, column: index) }
        case .decimal(let decimal): buffer.appendDecimal(decimal)
        case .bool(let flag): buffer.append(contentsOf: (flag ? "true" : "false").utf8)
        case .text, .integer, .null: preconditionFailure("written inline")
        }
        if quoteAll { buffer.appendAssumingUnique(0x22) }
    }

    /// A string without contiguous UTF-8 storage (a bridged one on Apple platforms).
    @usableFromInline
    mutating func textFromCopy(_ text: String) {
        var text = text
        text.makeContiguousUTF8()
        let written: Void? = text.utf8.withContiguousStorageIfAvailable { self.text(utf8: $0) }
        precondition(written != nil, "a contiguous string has contiguous UTF-8")
    }

    /// A text field that is empty, needs quotes or starts a formula: quoted, with quotes doubled and
    /// the formula guard, as ``CSVEncoder`` writes it (the delimiter is already written).
    @usableFromInline
    mutating func quoted(_ bytes: UnsafeBufferPointer<UInt8>, column index: Int) {
        let apostrophe = neutralize && !bytes.isEmpty && CSVOptions.isFormulaTrigger(bytes[0])
        if !buffer.appendQuotedAssumingUnique(bytes, apostrophe: apostrophe), failure == nil {
            failure = CellFailure(column: index, what: "text containing U+0000 (NUL)")
        }
    }

}
