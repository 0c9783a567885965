import Foundation

/// A streaming RFC 4180 CSV encoder.
///
/// - An optional UTF-8 byte-order mark, an optional header row with the column names, then one record
///   per row, each ending with CRLF (or LF).
/// - Fields are quoted only when they contain the delimiter, a double quote, CR or LF, or are empty text
///   or a neutralised formula (every field with a value, with ``CSVOptions/Quoting/all``); quotes
///   inside are doubled.
/// - Values: text as it is; integers and exact decimals in plain decimal notation (never through
///   floating point); dates as ISO-8601 UTC (`2024-03-01T09:30:00Z`, `.mmm` when there are
///   milliseconds); booleans as `true`/`false`.
/// - Empty text is always `""` (quoted, in both quoting modes) and a missing value is an empty,
///   unquoted field, so a reader that looks at the quotes can tell them apart (Python's `csv` module
///   cannot: it gives `''` for both).
/// - In a one-column file the two **cannot** be told apart: a missing value is written `""` too,
///   because an empty line is read as no record at all. Use JSON Lines when that matters.
/// - Text cells that a spreadsheet would run as a formula are neutralised (see
///   ``CSVOptions/neutralizeFormulas``); typed cells (dates, decimals, numbers) are written as they are.
///
/// What cannot be written: text containing U+0000 (NUL), which spreadsheets and many CSV readers cut
/// the cell at or reject the file for, and dates outside the years 0000…9999. Both throw
/// ``ExportError/Code/encoding`` naming the row and the column rather than writing a damaged file.
/// Every other Swift `String` is valid Unicode and is written byte for byte.
public struct CSVEncoder: RowEncoder {
    /// The columns, in order.
    public let columns: [ExportColumn]
    /// The dialect.
    public let options: CSVOptions

    private let plan: ColumnPlan
    // Read by ``CSVRecordWriter``, whose inlinable code runs in the caller's module.
    @usableFromInline let delimiter: UInt8
    @usableFromInline let quoteAll: Bool
    @usableFromInline let neutralize: Bool
    @usableFromInline let crlf: Bool
    @usableFromInline let quoteMissing: Bool

    /// Creates an encoder.
    ///
    /// - Parameters:
    ///   - columns: The columns, in order.
    ///   - options: The dialect.
    /// - Throws: ``ExportError/Code/configuration`` when the delimiter is not an ASCII byte that can
    ///   separate fields unambiguously (see ``CSVOptions/delimiter``).
    public init(columns: [ExportColumn], options: CSVOptions = CSVOptions()) throws(ExportError) {
        let delimiter = options.delimiter
        guard CSVOptions.isValidDelimiter(delimiter) else {
            throw ExportError(
                .configuration,
                "the CSV delimiter must be ASCII punctuation, a space or a tab; not a letter, a digit, or one of \" - + . : CR LF NUL")
        }
        self.columns = columns
        self.options = options
        self.plan = ColumnPlan(columns)
        self.delimiter = delimiter
        quoteAll = options.quoting == .all
        neutralize = options.neutralizeFormulas
        crlf = options.lineEnding == .crlf
        quoteMissing = columns.count == 1
    }

    /// Appends the byte-order mark (if enabled) and the header row (if enabled).
    ///
    /// On failure nothing is appended: the buffer is left as it was before the call.
    ///
    /// - Parameters:
    ///   - buffer: The output buffer.
    /// - Throws: ``ExportError/Code/encoding`` when a column name contains NUL.
    public mutating func writeHeader(into buffer: inout OutputBuffer) throws(ExportError) {
        buffer.makeUnique()
        let mark = buffer.count
        if options.byteOrderMark {
            buffer.appendAssumingUnique(0xEF)
            buffer.appendAssumingUnique(0xBB)
            buffer.appendAssumingUnique(0xBF)
        }
        guard options.includeHeader else { return }
        for (index, column) in columns.enumerated() {
            if index > 0 { buffer.appendAssumingUnique(delimiter) }
            guard appendText(column.name, into: &buffer) else {
                buffer.count = mark
                throw ExportError(.encoding, "the name of CSV column \(index + 1) contains U+0000 (NUL), which CSV files cannot carry safely")
            }
        }
        appendLineEnding(to: &buffer)
    }

    /// Appends one record.
    ///
    /// On failure nothing is appended: the buffer is left as it was before the call, with no part of
    /// the record.
    ///
    /// - Parameters:
    ///   - row: The row.
    ///   - rowNumber: The row's number, counted from 1, for error messages.
    ///   - buffer: The output buffer.
    /// - Throws: ``ExportError/Code/encoding`` naming the row and column for text containing NUL or a
    ///   date outside the years 0000…9999.
    public mutating func write(_ row: Membership, rowNumber: Int64, into buffer: inout OutputBuffer) throws(ExportError) {
        buffer.makeUnique()
        let mark = buffer.count
        do {
            try plan.forEachCell(of: row, to: self, into: &buffer)
        } catch {
            buffer.count = mark
            throw Self.unwritable(row: rowNumber, column: columns[error.column], error.what)
        }
        appendLineEnding(to: &buffer)
    }

    /// Appends one record of already-typed cells, one per column (for hosts that build their own rows).
    ///
    /// A host that holds its values as strings or UTF-8 bytes can write them field by field with a
    /// ``CSVRecordWriter`` instead, with no cell array and no copy of each string into a cell.
    ///
    /// On failure nothing is appended: the buffer is left as it was before the call, with no part of
    /// the record.
    ///
    /// - Parameters:
    ///   - cells: The cells, in column order; extra cells are ignored, missing ones are empty.
    ///   - rowNumber: The row's number, counted from 1, for error messages.
    ///   - buffer: The output buffer.
    /// - Throws: ``ExportError/Code/encoding`` naming the row and column for text containing NUL or a
    ///   date outside the years 0000…9999.
    public func write(cells: [CellValue], rowNumber: Int64, into buffer: inout OutputBuffer) throws(ExportError) {
        buffer.makeUnique()
        let mark = buffer.count
        for index in columns.indices {
            do {
                switch index < cells.count ? cells[index] : .null {
                case .text(let text): try self.text(text, column: index, into: &buffer)
                case .date(let date): try self.date(date, column: index, into: &buffer)
                case .decimal(let decimal): self.decimal(decimal, column: index, into: &buffer)
                case .null: null(column: index, into: &buffer)
                case .integer(let number):
                    startTyped(column: index, into: &buffer)
                    buffer.appendInteger(number)
                    endTyped(into: &buffer)
                case .bool(let flag):
                    startTyped(column: index, into: &buffer)
                    buffer.append(contentsOf: (flag ? "true" : "false").utf8)
                    endTyped(into: &buffer)
                }
            } catch {
                buffer.count = mark
                throw Self.unwritable(row: rowNumber, column: columns[error.column], error.what)
            }
        }
        appendLineEnding(to: &buffer)
    }

    static func unwritable(row: Int64, column: ExportColumn, _ what: String, format: String = "CSV") -> ExportError {
        ExportError(.encoding, "row \(row), column \(String(reflecting: String(column.name.prefix(64)))): \(format) cannot carry \(what)")
    }

    @inline(__always)
    private func appendLineEnding(to buffer: inout OutputBuffer) {
        if crlf {
            let out = buffer.reserveAssumingUnique(2)
            out[0] = 0x0D
            out[1] = 0x0A
            buffer.count &+= 2
        } else {
            buffer.appendAssumingUnique(0x0A)
        }
    }

    @inline(__always)
    private func startTyped(column: Int, into buffer: inout OutputBuffer) {
        if column > 0 { buffer.appendAssumingUnique(delimiter) }
        if quoteAll { buffer.appendAssumingUnique(0x22) }
    }

    @inline(__always)
    private func endTyped(into buffer: inout OutputBuffer) {
        if quoteAll { buffer.appendAssumingUnique(0x22) }
    }

    /// Appends a text field, quoted and neutralised as needed; `false` (appending nothing) for NUL.
    @inline(__always)
    private func appendText(_ text: String, into buffer: inout OutputBuffer) -> Bool {
        if let written = text.utf8.withContiguousStorageIfAvailable({ appendText($0, into: &buffer) }) {
            return written
        }
        var copy = text
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable { appendText($0, into: &buffer) } ?? false
    }

    @inline(__always)
    private func appendText(_ bytes: UnsafeBufferPointer<UInt8>, into buffer: inout OutputBuffer) -> Bool {
        guard let first = bytes.first else {
            let out = buffer.reserveAssumingUnique(2)
            out[0] = 0x22
            out[1] = 0x22
            buffer.count &+= 2
            return true
        }
        let guardFormula = neutralize && CSVOptions.isFormulaTrigger(first)
        if !quoteAll && !guardFormula && !CSVScanner.needsQuoting(bytes, delimiter: delimiter) {
            buffer.appendAssumingUnique(bytes)
            return true
        }
        return buffer.appendQuotedAssumingUnique(bytes, apostrophe: guardFormula)
    }
}

extension CSVEncoder: CellWriter {
    @inline(__always)
    func text(_ text: String, column: Int, into buffer: inout OutputBuffer) throws(CellFailure) {
        if column > 0 { buffer.appendAssumingUnique(delimiter) }
        guard appendText(text, into: &buffer) else { throw CellFailure(column: column, what: "text containing U+0000 (NUL)") }
    }

    @inline(__always)
    func date(_ date: Date, column: Int, into buffer: inout OutputBuffer) throws(CellFailure) {
        startTyped(column: column, into: &buffer)
        guard buffer.appendDate(date) else { throw CellFailure.date(date, column: column) }
        endTyped(into: &buffer)
    }

    @inline(__always)
    func decimal(_ decimal: ExactDecimal, column: Int, into buffer: inout OutputBuffer) {
        startTyped(column: column, into: &buffer)
        buffer.appendDecimal(decimal)
        endTyped(into: &buffer)
    }

    @inline(__always)
    func null(column: Int, into buffer: inout OutputBuffer) {
        if column > 0 { buffer.appendAssumingUnique(delimiter) }
        if quoteMissing {
            buffer.appendAssumingUnique(0x22)
            buffer.appendAssumingUnique(0x22)
        }
    }
}
