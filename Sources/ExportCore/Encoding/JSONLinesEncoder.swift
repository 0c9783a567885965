import Foundation

/// A streaming JSON Lines encoder (`.jsonl`): one JSON object per row, each followed by `\n`.
///
/// Objects have one member per column, keyed by the column name, in column order:
/// `{"membership_id":"m-1","amount":"19.99","ended_at":null}`.
///
/// - Text, dates and **exact decimals are JSON strings**. Decimals are strings on purpose: most JSON
///   readers (JavaScript, Python's `float`) turn numbers into binary floating point, which cannot hold
///   money exactly; `"19.99"` reaches the reader unchanged. Dates are ISO-8601 UTC like in CSV.
/// - A missing value is `null`. (No standard column is an integer or a boolean today; when one is
///   added, integers become JSON numbers and booleans `true`/`false`.)
/// - Strings are escaped per RFC 8259: `"` and `\` get a backslash, control characters U+0000…U+001F
///   are written `\b`, `\f`, `\n`, `\r`, `\t` or `\u00XX`, and U+2028/U+2029 are written `\u2028`/
///   `\u2029` so the output is also safe inside JavaScript. Everything else is raw UTF-8.
/// - No formula neutralisation: JSON is not opened by spreadsheets as cells.
///
/// What cannot be written: dates outside the years 0000…9999 (``ExportError/Code/encoding`` naming the
/// row and column). Every Swift `String` is valid Unicode, so all text can be carried.
public struct JSONLinesEncoder: RowEncoder {
    /// The columns, in order.
    public let columns: [ExportColumn]

    private let plan: ColumnPlan
    /// `{"name":` for the first column and `,"name":` for the others, back to back.
    private let keys: [UInt8]
    /// Where each column's key starts in ``keys``; one more entry for the end.
    private let keyStarts: [Int]

    /// Creates an encoder.
    ///
    /// - Parameters:
    ///   - columns: The columns, in order; names become the object keys.
    public init(columns: [ExportColumn]) {
        self.columns = columns
        plan = ColumnPlan(columns)
        var keys: [UInt8] = []
        var starts: [Int] = [0]
        var scratch = OutputBuffer(minimumCapacity: 256)
        for (index, column) in columns.enumerated() {
            scratch.removeAll()
            scratch.makeUnique()
            scratch.appendAssumingUnique(index == 0 ? UInt8(ascii: "{") : UInt8(ascii: ","))
            Self.appendString(column.name, into: &scratch)
            scratch.appendAssumingUnique(UInt8(ascii: ":"))
            scratch.withUnsafeBytes { keys.append(contentsOf: $0) }
            starts.append(keys.count)
        }
        self.keys = keys
        self.keyStarts = starts
    }

    /// Writes nothing: JSON Lines has no header.
    ///
    /// - Parameters:
    ///   - buffer: The output buffer.
    public mutating func writeHeader(into buffer: inout OutputBuffer) throws(ExportError) {}

    /// Appends one object and a line feed.
    ///
    /// On failure nothing is appended: the buffer is left as it was before the call, with no part of
    /// the object.
    ///
    /// - Parameters:
    ///   - row: The row.
    ///   - rowNumber: The row's number, counted from 1, for error messages.
    ///   - buffer: The output buffer.
    /// - Throws: ``ExportError/Code/encoding`` naming the row and column for a date outside the years 0000…9999.
    public mutating func write(_ row: Membership, rowNumber: Int64, into buffer: inout OutputBuffer) throws(ExportError) {
        buffer.makeUnique()
        let mark = buffer.count
        if columns.isEmpty { buffer.appendAssumingUnique(UInt8(ascii: "{")) }
        do {
            try plan.forEachCell(of: row, to: self, into: &buffer)
        } catch {
            buffer.count = mark
            throw CSVEncoder.unwritable(row: rowNumber, column: columns[error.column], error.what, format: "JSON Lines")
        }
        let out = buffer.reserveAssumingUnique(2)
        out[0] = UInt8(ascii: "}")
        out[1] = 0x0A
        buffer.count &+= 2
    }

    @inline(__always)
    private func appendKey(_ column: Int, into buffer: inout OutputBuffer) {
        keys.withUnsafeBufferPointer { keys in
            keyStarts.withUnsafeBufferPointer { starts in
                buffer.appendAssumingUnique(UnsafeBufferPointer(rebasing: keys[starts[column]..<starts[column + 1]]))
            }
        }
    }

    @inline(__always)
    static func appendString(_ text: String, into buffer: inout OutputBuffer) {
        if text.utf8.withContiguousStorageIfAvailable({ appendString($0, into: &buffer) }) != nil { return }
        var copy = text
        copy.makeContiguousUTF8()
        _ = copy.utf8.withContiguousStorageIfAvailable { appendString($0, into: &buffer) }
    }

    @inline(__always)
    private static func appendString(_ bytes: UnsafeBufferPointer<UInt8>, into buffer: inout OutputBuffer) {
        guard !CSVScanner.needsJSONEscaping(bytes) else { return appendEscaped(bytes, into: &buffer) }
        let out = buffer.reserveAssumingUnique(bytes.count + 2)
        out[0] = 0x22
        if let base = bytes.baseAddress { CSVScanner.copy(base, count: bytes.count, to: out + 1) }
        out[bytes.count + 1] = 0x22
        buffer.count &+= bytes.count + 2
    }

    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, into buffer: inout OutputBuffer) {
        let out = buffer.reserveAssumingUnique(bytes.count * 6 + 2)
        let hex: StaticString = "0123456789abcdef"
        var length = 0
        out[length] = 0x22
        length &+= 1
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            var escape: UInt8 = 0
            switch byte {
            case 0x22: escape = 0x22
            case 0x5C: escape = 0x5C
            case 0x08: escape = UInt8(ascii: "b")
            case 0x0C: escape = UInt8(ascii: "f")
            case 0x0A: escape = UInt8(ascii: "n")
            case 0x0D: escape = UInt8(ascii: "r")
            case 0x09: escape = UInt8(ascii: "t")
            case 0..<0x20:
                for (offset, character) in "\\u00".utf8.enumerated() { out[length + offset] = character }
                out[length + 4] = hex.utf8Start[Int(byte >> 4)]
                out[length + 5] = hex.utf8Start[Int(byte & 0x0F)]
                length &+= 6
                continue
            case 0xE2 where index + 1 < bytes.count && bytes[index] == 0x80 && (bytes[index + 1] == 0xA8 || bytes[index + 1] == 0xA9):
                let last = bytes[index + 1] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9")
                for (offset, character) in "\\u202".utf8.enumerated() { out[length + offset] = character }
                out[length + 5] = last
                length &+= 6
                index += 2
                continue
            default: break
            }
            if escape != 0 {
                out[length] = 0x5C
                out[length + 1] = escape
                length &+= 2
            } else {
                out[length] = byte
                length &+= 1
            }
        }
        out[length] = 0x22
        length &+= 1
        buffer.count &+= length
    }
}

extension JSONLinesEncoder: CellWriter {
    @inline(__always)
    func text(_ text: String, column: Int, into buffer: inout OutputBuffer) throws(CellFailure) {
        appendKey(column, into: &buffer)
        Self.appendString(text, into: &buffer)
    }

    @inline(__always)
    func date(_ date: Date, column: Int, into buffer: inout OutputBuffer) throws(CellFailure) {
        appendKey(column, into: &buffer)
        buffer.appendAssumingUnique(0x22)
        guard buffer.appendDate(date) else { throw CellFailure.date(date, column: column) }
        buffer.appendAssumingUnique(0x22)
    }

    @inline(__always)
    func decimal(_ decimal: ExactDecimal, column: Int, into buffer: inout OutputBuffer) {
        appendKey(column, into: &buffer)
        buffer.appendAssumingUnique(0x22)
        buffer.appendDecimal(decimal)
        buffer.appendAssumingUnique(0x22)
    }

    @inline(__always)
    func null(column: Int, into buffer: inout OutputBuffer) {
        appendKey(column, into: &buffer)
        let out = buffer.reserveAssumingUnique(4)
        out[0] = UInt8(ascii: "n")
        out[1] = UInt8(ascii: "u")
        out[2] = UInt8(ascii: "l")
        out[3] = UInt8(ascii: "l")
        buffer.count &+= 4
    }
}
