/// The CSV dialect.
public struct CSVOptions: Hashable, Sendable, Codable {
    /// The field separator; `,` by default. ASCII punctuation, a space or a tab (`;`, `\t` and `|` are
    /// common); not a letter or digit, nor `"`, `-`, `+`, `.`, `:`, CR, LF or NUL, because numbers, dates
    /// and booleans are written unquoted and contain those.
    public var delimiter: UInt8
    /// When fields are quoted; minimal by default.
    public var quoting: Quoting
    /// How records end; CRLF by default.
    public var lineEnding: LineEnding
    /// Whether the file starts with a UTF-8 byte-order mark, which makes Excel read it as UTF-8.
    public var byteOrderMark: Bool
    /// Whether the first record is the header.
    public var includeHeader: Bool
    /// Whether text cells that start with `=`, `+`, `-`, `@`, tab or CR are written as `"'…"` (a
    /// leading apostrophe, and quoted), so spreadsheet programs show them as text instead of running
    /// them. This is OWASP's CSV-injection advice. On by default; it applies to header names too.
    ///
    /// What it does to numbers: only *text* cells are touched. Text that merely looks like a negative
    /// number, such as `-5` in a text or attribute column, is written as `"'-5"` and a spreadsheet shows
    /// `'-5` or `-5` as text, not a number. Typed values (integers, exact decimals such as a negative
    /// `amount`, dates, booleans) are never prefixed, so they stay numbers. A program reading the file
    /// back gets the apostrophe as part of the value.
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

    /// Whether a text cell starting with `byte` is a spreadsheet formula trigger (OWASP's list).
    ///
    /// - Parameters:
    ///   - byte: The first UTF-8 byte of the cell.
    /// - Returns: `true` for `=`, `+`, `-`, `@`, tab and CR.
    @inlinable @inline(__always)
    public static func isFormulaTrigger(_ byte: UInt8) -> Bool {
        // One bit per trigger below 64 (tab, CR, `+`, `-`, `=`), and `@` (64) on its own.
        let triggersBelow64: UInt64 = 1 << 0x09 | 1 << 0x0D | 1 << 0x2B | 1 << 0x2D | 1 << 0x3D
        return byte < 64 ? (triggersBelow64 >> UInt64(byte)) & 1 == 1 : byte == UInt8(ascii: "@")
    }

    /// Whether `byte` can be a delimiter (see ``delimiter``).
    ///
    /// - Parameters:
    ///   - byte: The candidate delimiter.
    /// - Returns: `true` for ASCII punctuation, space and tab other than `"`, `-`, `+`, `.` and `:`.
    public static func isValidDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x09, 0x20: true
        case UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: ":"): false
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: true
        default: false
        }
    }
}
