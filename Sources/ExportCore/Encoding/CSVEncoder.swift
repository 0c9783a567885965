/// A streaming RFC 4180 CSV encoder.
///
/// - A header row with the column names, then one record per row.
/// - Fields are quoted only when they contain the delimiter, a double quote, CR or LF (or always, with
///   ``CSVOptions/Quoting/all``); quotes inside are doubled.
/// - Records end with CRLF (or LF).
/// - Text cells that a spreadsheet would run as a formula are neutralised (see
///   ``CSVOptions/neutralizeFormulas``); typed cells (dates, decimals, numbers) are written as they are.
/// - Empty text is `""` and a missing value is an empty field, so the two stay distinguishable when
///   quoting is minimal.
public struct CSVEncoder: RowEncoder {
    /// The columns, in order.
    public let columns: [ExportColumn]
    /// The dialect.
    public let options: CSVOptions

    /// Creates an encoder.
    ///
    /// - Parameters:
    ///   - columns: The columns, in order.
    ///   - options: The dialect.
    /// - Throws: ``ExportError/Code/configuration`` when the delimiter is a quote, CR, LF or not ASCII.
    public init(columns: [ExportColumn], options: CSVOptions = CSVOptions()) throws(ExportError) {
        let delimiter = options.delimiter
        guard delimiter < 0x80, delimiter != UInt8(ascii: "\""), delimiter != 0x0D, delimiter != 0x0A else {
            throw ExportError(.configuration, "the CSV delimiter must be an ASCII character other than a quote, CR or LF")
        }
        self.columns = columns
        self.options = options
    }

    /// Appends the byte-order mark (if enabled) and the header row (if enabled).
    ///
    /// - Parameters:
    ///   - buffer: The output buffer.
    public mutating func writeHeader(into buffer: inout [UInt8]) throws(ExportError) {
        if options.byteOrderMark { buffer.append(contentsOf: [0xEF, 0xBB, 0xBF]) }
        guard options.includeHeader else { return }
        for (index, column) in columns.enumerated() {
            if index > 0 { buffer.append(options.delimiter) }
            appendText(column.name, neutralize: false, to: &buffer)
        }
        appendLineEnding(to: &buffer)
    }

    /// Appends one record.
    ///
    /// - Parameters:
    ///   - row: The row.
    ///   - rowNumber: The row's number (unused: every value fits in CSV).
    ///   - buffer: The output buffer.
    public mutating func write(_ row: Membership, rowNumber: Int64, into buffer: inout [UInt8]) throws(ExportError) {
        let quoteAll = options.quoting == .all
        for (index, column) in columns.enumerated() {
            if index > 0 { buffer.append(options.delimiter) }
            let value = column.value(in: row)
            if case .text(let text) = value {
                appendText(text, neutralize: options.neutralizeFormulas, to: &buffer)
                continue
            }
            if quoteAll { buffer.append(0x22) }
            switch value {
            case .text: break
            case .integer(let number): buffer.append(contentsOf: String(number).utf8)
            case .decimal(let decimal): decimal.appendASCII(to: &buffer)
            case .date(let date): ISO8601.append(date, to: &buffer)
            case .bool(let flag): buffer.append(contentsOf: (flag ? "true" : "false").utf8)
            case .null: break
            }
            if quoteAll { buffer.append(0x22) }
        }
        appendLineEnding(to: &buffer)
    }

    private func appendText(_ text: String, neutralize: Bool, to buffer: inout [UInt8]) {
        let utf8 = text.utf8
        let guardFormula = neutralize && utf8.first.map(CSVOptions.isFormulaTrigger) == true
        var needsQuotes = options.quoting == .all || utf8.isEmpty || guardFormula
        if !needsQuotes {
            let delimiter = options.delimiter
            needsQuotes = utf8.contains { $0 == delimiter || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        }
        guard needsQuotes else {
            buffer.append(contentsOf: utf8)
            return
        }
        buffer.append(0x22)
        if guardFormula { buffer.append(UInt8(ascii: "'")) }
        for byte in utf8 {
            if byte == 0x22 { buffer.append(0x22) }
            buffer.append(byte)
        }
        buffer.append(0x22)
    }

    private func appendLineEnding(to buffer: inout [UInt8]) {
        if options.lineEnding == .crlf { buffer.append(0x0D) }
        buffer.append(0x0A)
    }
}

/// The CSV dialect.
public struct CSVOptions: Hashable, Sendable, Codable {
    /// When fields are quoted.
    public enum Quoting: String, Hashable, Sendable, Codable {
        /// Only fields that need it (delimiter, quote, CR, LF, empty text, neutralised formulas).
        case minimal
        /// Every field.
        case all
    }

    /// How records end.
    public enum LineEnding: String, Hashable, Sendable, Codable {
        /// `\r\n`, as RFC 4180 says.
        case crlf
        /// `\n`.
        case lf
    }

    /// The field separator, an ASCII byte; `,` by default.
    public var delimiter: UInt8
    /// When fields are quoted; minimal by default.
    public var quoting: Quoting
    /// How records end; CRLF by default.
    public var lineEnding: LineEnding
    /// Whether the file starts with a UTF-8 byte-order mark, which makes Excel read it as UTF-8.
    public var byteOrderMark: Bool
    /// Whether the first record is the header.
    public var includeHeader: Bool
    /// Whether text cells that start with `=`, `+`, `-`, `@`, tab or CR are written as `"'…"`, so
    /// spreadsheet programs show them as text instead of running them (OWASP's CSV-injection advice).
    /// On by default. Text that merely looks like a negative number, such as `-5`, is also prefixed;
    /// typed numbers and decimals never are.
    public var neutralizeFormulas: Bool

    /// Creates a dialect.
    ///
    /// - Parameters:
    ///   - delimiter: The field separator.
    ///   - quoting: When fields are quoted.
    ///   - lineEnding: How records end.
    ///   - byteOrderMark: Whether to start with a UTF-8 BOM.
    ///   - includeHeader: Whether to write the header record.
    ///   - neutralizeFormulas: Whether to neutralise formula-like text cells.
    public init(
        delimiter: UInt8 = UInt8(ascii: ","),
        quoting: Quoting = .minimal,
        lineEnding: LineEnding = .crlf,
        byteOrderMark: Bool = false,
        includeHeader: Bool = true,
        neutralizeFormulas: Bool = true
    ) {
        self.delimiter = delimiter
        self.quoting = quoting
        self.lineEnding = lineEnding
        self.byteOrderMark = byteOrderMark
        self.includeHeader = includeHeader
        self.neutralizeFormulas = neutralizeFormulas
    }

    static func isFormulaTrigger(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "=") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "@")
            || byte == 0x09 || byte == 0x0D
    }
}
