import ExportCore
import Foundation
import ExportTestSupport
import Testing

/// Runs an independent parser (Python's `csv`, `json` and `gzip` modules) over encoder output.
///
/// The encoded bytes and the expected cells go to temporary files; `python3` parses the file and
/// compares every cell, then prints `ok` or the first difference. When `python3` is missing the tests
/// fail with a clear message if `CI` is `true`, and are skipped (reported as such) otherwise.
enum PythonCheck {
    /// Whether `python3` can be started.
    static let isAvailable: Bool = {
        (try? run(["python3", "-c", "import csv, json, gzip, decimal"]))?.status == 0
    }()

    /// Whether the tests run in CI, where a missing `python3` is a failure rather than a skip.
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The trait for tests that need Python: enabled when it exists, and always in CI (where it fails loudly).
    static var enabled: ConditionTrait {
        if !isAvailable && !isCI { _ = recordSkip }
        return .enabled(if: isAvailable || isCI, "python3 is not installed: the round-trip tests against Python's csv/json/gzip are skipped")
    }

    /// Records the skip once per run.
    private static let recordSkip: Void = SkipLog.record(
        "the encoder round trips against Python's csv, json and gzip", install: "python3 (apt-get install python3)")

    /// The cells Python should find, computed from ``ExportColumn/value(in:)`` (not from the encoders).
    static func expectedCells(columns: [ExportColumn], rows: [Membership]) -> [[CellValue]] {
        rows.map { row in columns.map { $0.value(in: row) } }
    }

    /// The cells in the script's notation: a kind letter and the value's parts as text.
    static func describe(_ cells: [[CellValue]]) -> [[[String]]] {
        cells.map { row in
            row.map { cell -> [String] in
                switch cell {
                case .text(let text): return ["t", text]
                case .date(let date): return ["d", String(Int64((date.timeIntervalSince1970 * 1000).rounded()))]
                case .decimal(let decimal): return ["n", String(decimal.units), String(decimal.scale)]
                case .integer(let number): return ["i", String(number)]
                case .bool(let flag): return ["b", flag ? "true" : "false"]
                case .null: return ["z"]
                }
            }
        }
    }

    /// Checks `data` with Python and records an issue for any difference.
    ///
    /// - Parameters:
    ///   - mode: `csv` or `jsonl`.
    ///   - data: The encoded file.
    ///   - columns: The columns written.
    ///   - rows: The rows written.
    ///   - options: Dialect details for the script (`delimiter`, `quoting`, `bom`, `crlf`, `neutralize`, `gzip`).
    static func verify(
        _ mode: String, data: [UInt8], columns: [ExportColumn], rows: [Membership], options: [String: String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try verify(
            mode, data: data, header: columns.map(\.name), cells: expectedCells(columns: columns, rows: rows), options: options,
            sourceLocation: sourceLocation)
    }

    /// Checks `data`, written from typed cells, with Python and records an issue for any difference.
    static func verify(
        _ mode: String, data: [UInt8], header: [String], cells: [[CellValue]], options: [String: String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        guard isAvailable else {
            Issue.record("python3 is required for the encoder round-trip tests (CI=true): install python3", sourceLocation: sourceLocation)
            return
        }
        let result = try check(mode, data: data, header: header, cells: cells, options: options)
        #expect(result.status == 0 && result.output.hasPrefix("ok"), "Python \(mode) check: \(result.output)", sourceLocation: sourceLocation)
    }

    /// Runs the Python check and returns its verdict without recording an issue.
    ///
    /// - Returns: The script's exit status (0 when everything matched) and its message.
    static func check(
        _ mode: String, data: [UInt8], columns: [ExportColumn], rows: [Membership], options: [String: String]
    ) throws -> (status: Int32, output: String) {
        try check(mode, data: data, header: columns.map(\.name), cells: expectedCells(columns: columns, rows: rows), options: options)
    }

    /// Runs the Python check on a file written from typed cells.
    static func check(
        _ mode: String, data: [UInt8], header: [String], cells: [[CellValue]], options: [String: String]
    ) throws -> (status: Int32, output: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("encoder-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("check.py")
        let dataFile = directory.appendingPathComponent("data")
        let expectedFile = directory.appendingPathComponent("expected.json")
        try Data(checkScript.utf8).write(to: script)
        try Data(data).write(to: dataFile)
        struct Expected: Encodable {
            let header: [String]
            let rows: [[[String]]]
        }
        let expected = Expected(header: header, rows: describe(cells))
        try JSONEncoder().encode(expected).write(to: expectedFile)
        let optionsJSON = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        return try run(["python3", script.path, mode, dataFile.path, expectedFile.path, optionsJSON])
    }

    /// Runs a command through `/usr/bin/env`.
    ///
    /// - Returns: The exit status and the combined output.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// Runs a command and returns its standard output as bytes (for `gzip -d -c`).
    static func runForBytes(_ arguments: [String]) throws -> (status: Int32, output: [UInt8]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, [UInt8](output))
    }

    private static let checkScript = #"""
        import csv, gzip, io, json, sys
        from datetime import datetime, timezone
        from decimal import Decimal

        def fail(message):
            print(message[:3000])
            sys.exit(1)

        mode, data_path, expected_path, options = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
        raw = open(data_path, 'rb').read()
        if options.get('gzip') == '1':
            raw = gzip.decompress(raw)
        expected = json.load(open(expected_path, encoding='utf-8'))
        header, rows = expected['header'], expected['rows']
        neutralize = options.get('neutralize') == '1'
        TRIGGERS = ('=', '+', '-', '@', '\t', '\r')
        EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

        def neutral(text):
            return "'" + text if neutralize and text.startswith(TRIGGERS) else text

        def check_date(text, milliseconds, where):
            if not isinstance(text, str) or not text.endswith('Z') or len(text) not in (20, 24):
                fail(f'{where}: bad date text {text!r}')
            moment = datetime.fromisoformat(text[:-1] + '+00:00')
            delta = moment - EPOCH
            got = (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
            if got != int(milliseconds):
                fail(f'{where}: date {text!r} is {got} ms, expected {milliseconds}')
            if (int(milliseconds) % 1000 == 0) != (len(text) == 20):
                fail(f'{where}: date {text!r} should have milliseconds only when they are not zero')

        def check_decimal(text, units, scale, where):
            units, scale = int(units), int(scale)
            digits = str(abs(units)).rjust(scale + 1, '0')
            canonical = ('-' if units < 0 else '') + (digits[:-scale] + '.' + digits[-scale:] if scale else digits)
            if text != canonical or Decimal(text) != Decimal(units).scaleb(-scale):
                fail(f'{where}: decimal {text!r}, expected {canonical!r}')

        def check_cell(got, cell, where, json_mode):
            kind = cell[0]
            if kind == 't':
                want = cell[1] if json_mode else neutral(cell[1])
                if got != want:
                    fail(f'{where}: text {got[:200]!r} (len {len(got)}) != {want[:200]!r} (len {len(want)})')
            elif kind == 'z':
                if got != (None if json_mode else ''):
                    fail(f'{where}: expected a missing value, got {got[:200]!r}')
            elif kind == 'd':
                check_date(got, cell[1], where)
            elif kind == 'n':
                if json_mode and not isinstance(got, str):
                    fail(f'{where}: decimals must be JSON strings, got {got!r}')
                check_decimal(got, cell[1], cell[2], where)
            elif kind == 'i' and not json_mode:
                if got != cell[1] or int(got) != int(cell[1]) or got != str(int(got)):
                    fail(f'{where}: integer {got!r}, expected {cell[1]!r}')
            elif kind == 'b' and not json_mode:
                if got != cell[1] or got not in ('true', 'false'):
                    fail(f'{where}: boolean {got!r}, expected {cell[1]!r}')
            else:
                fail(f'{where}: unexpected kind {kind}')

        def tokenize(text, delimiter, terminator):
            # An RFC 4180 reader written here, independent of the csv module, that also records whether
            # each field was quoted (csv.reader gives '' for both "" and an empty field).
            records, fields, i, n = [], [], 0, len(text)
            while i < n:
                if text[i] == '"':
                    parts, j = [], i + 1
                    while True:
                        k = text.find('"', j)
                        if k < 0:
                            fail(f'record {len(records) + 1}: unterminated quoted field')
                        parts.append(text[j:k])
                        if text.startswith('""', k):
                            parts.append('"')
                            j = k + 2
                        else:
                            i = k + 1
                            break
                    fields.append((True, ''.join(parts)))
                else:
                    j = i
                    while j < n and text[j] not in (delimiter, '\r', '\n'):
                        if text[j] == '"':
                            fail(f'record {len(records) + 1}: a quote inside an unquoted field')
                        j += 1
                    fields.append((False, text[i:j]))
                    i = j
                if text.startswith(terminator, i):
                    records.append(fields)
                    fields, i = [], i + len(terminator)
                elif i < n and text[i] == delimiter:
                    i += 1
                    if i == n:
                        fail('the file ends after a delimiter')
                else:
                    fail(f'record {len(records) + 1}: {text[i:i + 20]!r} after a field')
            if fields:
                fail('the last record has no line ending')
            return records

        def should_quote(cell, quote_all, delimiter, single_column):
            kind = cell[0]
            if kind == 'z':
                # A missing value is an empty, unquoted field; alone on its line it is "" instead.
                return single_column
            if kind == 't':
                text = cell[1]
                if quote_all or text == '':
                    return True
                if neutralize and text.startswith(TRIGGERS):
                    return True
                return any(special in text for special in (delimiter, '"', '\r', '\n'))
            return quote_all  # dates, decimals, integers and booleans

        def check_quoting(records, parsed, quote_all, delimiter):
            values = [[value for _, value in record] for record in records]
            if values != parsed:
                fail('the csv module and the quote-aware reader disagree on the values')
            single = len(header) == 1
            expected = [[['t', name] for name in header]] + rows
            if len(records) != len(expected):
                fail(f'{len(records) - 1} raw records, expected {len(rows)}')
            for r, (record, cells) in enumerate(zip(records, expected)):
                for c, ((quoted, value), cell) in enumerate(zip(record, cells)):
                    where = ('header' if r == 0 else f'row {r}') + f' column {header[c]!r}'
                    if quoted != should_quote(cell, quote_all, delimiter, single):
                        fail(f'{where}: {cell[0]} value {value[:80]!r} was {"" if quoted else "not "}quoted')

        if mode == 'csv':
            bom = b'\xef\xbb\xbf'
            if options.get('bom') == '1':
                if not raw.startswith(bom):
                    fail('missing byte-order mark')
                raw = raw[3:]
            elif raw.startswith(bom):
                fail('unexpected byte-order mark')
            text = raw.decode('utf-8')
            terminator = '\r\n' if options.get('crlf') == '1' else '\n'
            if not text.endswith(terminator):
                fail(f'file does not end with {terminator!r}')
            if options.get('crlf') != '1' and text.endswith('\r\n'):
                fail('LF file ends with CRLF')
            csv.field_size_limit(sys.maxsize)
            reader = csv.reader(io.StringIO(text, newline=''), delimiter=options['delimiter'], quotechar='"',
                                doublequote=True, strict=True)
            parsed = list(reader)
            if options.get('quoting') not in ('minimal', 'all'):
                fail('the csv check needs quoting=minimal or quoting=all')
            check_quoting(tokenize(text, options['delimiter'], terminator), parsed, options['quoting'] == 'all', options['delimiter'])
            if not parsed or parsed[0] != [neutral(name) for name in header]:
                fail(f'header {parsed[:1]!r} != {[neutral(name) for name in header]!r}')
            body = parsed[1:]
            if len(body) != len(rows):
                fail(f'{len(body)} records, expected {len(rows)}')
            for r, (got, want) in enumerate(zip(body, rows)):
                if len(got) != len(want):
                    fail(f'row {r + 1}: {len(got)} fields, expected {len(want)}: {got!r}')
                for c, (g, w) in enumerate(zip(got, want)):
                    check_cell(g, w, f'row {r + 1} column {header[c]!r}', False)
        elif mode == 'jsonl':
            lines = raw.split(b'\n')
            if lines[-1] != b'':
                fail('the file does not end with a line feed')
            lines = lines[:-1]
            if len(lines) != len(rows):
                fail(f'{len(lines)} lines, expected {len(rows)}')
            for r, (line, want) in enumerate(zip(lines, rows)):
                decoded = line.decode('utf-8')
                if '\u2028' in decoded or '\u2029' in decoded:
                    fail(f'row {r + 1}: raw U+2028/U+2029 should be escaped')
                value = json.loads(decoded)
                if list(value.keys()) != header:
                    fail(f'row {r + 1}: keys {list(value.keys())!r} != {header!r}')
                for c, name in enumerate(header):
                    check_cell(value[name], want[c], f'row {r + 1} column {name!r}', True)
        else:
            fail('unknown mode ' + mode)
        print(f'ok {len(rows)} rows')
        """#
}
