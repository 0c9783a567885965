import ExportCore
import Foundation
import Testing

/// Round trips through independent parsers: Python's `csv`, `json` and `gzip` modules and `gzip -d`.
@Suite("Encoder round trips against Python")
struct EncoderRoundTripTests {
    /// Encodes `rows` through a ``ChunkedEncoder`` with a small, odd chunk size and joins the chunks.
    static func encode(_ encoder: any RowEncoder, _ rows: [Membership], chunkSize: Int = 4099) throws -> [UInt8] {
        var chunks = ChunkedEncoder(encoder, chunkSize: chunkSize)
        var output: [UInt8] = []
        for row in rows {
            try chunks.write(row)
            while let chunk = chunks.takeChunk() {
                #expect(chunk.count == chunkSize)
                output += chunk
            }
        }
        for chunk in try chunks.finish() {
            #expect(chunk.count <= chunkSize)
            output += chunk
        }
        #expect(chunks.rowCount == Int64(rows.count))
        return output
    }

    struct Dialect: CustomTestStringConvertible, Sendable {
        let byteOrderMark: Bool
        let lineEnding: CSVOptions.LineEnding
        let quoting: CSVOptions.Quoting
        let delimiter: Character
        var neutralize = true

        var options: CSVOptions {
            CSVOptions(
                delimiter: delimiter.asciiValue!, quoting: quoting, lineEnding: lineEnding, byteOrderMark: byteOrderMark,
                neutralizeFormulas: neutralize)
        }

        var pythonOptions: [String: String] {
            ["delimiter": String(delimiter), "bom": byteOrderMark ? "1" : "0", "crlf": lineEnding == .crlf ? "1" : "0",
             "neutralize": neutralize ? "1" : "0", "quoting": quoting == .all ? "all" : "minimal"]
        }

        var testDescription: String {
            "\(byteOrderMark ? "BOM" : "no BOM"), \(lineEnding), \(quoting), \(String(reflecting: delimiter))\(neutralize ? "" : ", formulas kept")"
        }
    }

    static let dialects: [Dialect] = {
        var dialects: [Dialect] = []
        for byteOrderMark in [false, true] {
            for lineEnding in [CSVOptions.LineEnding.crlf, .lf] {
                for quoting in [CSVOptions.Quoting.minimal, .all] {
                    dialects.append(Dialect(byteOrderMark: byteOrderMark, lineEnding: lineEnding, quoting: quoting, delimiter: ","))
                }
            }
        }
        dialects.append(Dialect(byteOrderMark: false, lineEnding: .crlf, quoting: .minimal, delimiter: ";"))
        dialects.append(Dialect(byteOrderMark: false, lineEnding: .lf, quoting: .minimal, delimiter: "\t"))
        dialects.append(Dialect(byteOrderMark: true, lineEnding: .crlf, quoting: .minimal, delimiter: "|", neutralize: false))
        return dialects
    }()

    @Test("CSV parses back with Python's csv module", PythonCheck.enabled, arguments: dialects.indices)
    func csvRoundTrip(_ index: Int) throws {
        let dialect = Self.dialects[index]
        var generator = AdversarialRows(seed: 0xC5F + UInt64(index))
        let rows = generator.rows(60, hugeFields: index % 4 == 0)
        let encoder = try CSVEncoder(columns: AdversarialRows.columns, options: dialect.options)
        let bytes = try Self.encode(encoder, rows)
        try PythonCheck.verify("csv", data: bytes, columns: AdversarialRows.columns, rows: rows, options: dialect.pythonOptions)
    }

    @Test("JSON Lines parses back with Python's json module", PythonCheck.enabled, arguments: [1, 2, 3])
    func jsonLinesRoundTrip(_ seed: UInt64) throws {
        var generator = AdversarialRows(seed: 0x150 + seed)
        let rows = generator.rows(80, hugeFields: seed == 1)
        let bytes = try Self.encode(try ExportFormat.jsonLines.makeEncoder(columns: AdversarialRows.columns), rows)
        try PythonCheck.verify("jsonl", data: bytes, columns: AdversarialRows.columns, rows: rows, options: [:])
    }

    @Test("csv.gz decompresses with Python's gzip and gzip -d to the plain CSV", PythonCheck.enabled, arguments: [0, 1, 6, 9])
    func gzipRoundTrip(_ level: Int) throws {
        var generator = AdversarialRows(seed: 0x6219 + UInt64(level))
        let rows = generator.rows(50, hugeFields: level == 6)
        let options = CSVOptions(byteOrderMark: level == 9)
        let compressed = try Self.encode(
            try ExportFormat.csvGzip.makeEncoder(columns: AdversarialRows.columns, csv: options, compressionLevel: level), rows)
        let plain = try Self.encode(try ExportFormat.csv.makeEncoder(columns: AdversarialRows.columns, csv: options), rows)
        #expect(Array(compressed.prefix(2)) == [0x1F, 0x8B], "gzip magic number")
        if level >= 6 { #expect(compressed.count < plain.count) }

        try PythonCheck.verify(
            "csv", data: compressed, columns: AdversarialRows.columns, rows: rows,
            options: ["delimiter": ",", "quoting": "minimal", "bom": level == 9 ? "1" : "0", "crlf": "1", "neutralize": "1", "gzip": "1"])

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("encoder-\(UUID().uuidString).csv.gz")
        try Data(compressed).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let decompressed = try PythonCheck.runForBytes(["gzip", "-d", "-c", file.path])
        #expect(decompressed.status == 0, "gzip -d -c exited with \(decompressed.status) (127: gzip is not installed)")
        #expect(decompressed.output == plain, "gzip -d gives back the plain CSV")
    }

    /// Typed cells for ``CSVEncoder/write(cells:rowNumber:into:)``: integers to both ends of `Int64`,
    /// booleans, empty text next to missing values, and the other kinds for company.
    static let typedCells: [[CellValue]] = [
        [.integer(.min), .bool(true), .text(""), .null, .decimal(ExactDecimal(units: -1250, scale: 2))],
        [.integer(.max), .bool(false), .null, .text(""), .date(Date(timeIntervalSince1970: 1_700_000_000.125))],
        [.integer(0), .null, .text("-1"), .integer(-1), .text("a,b")],
        [.null, .bool(true), .integer(42), .text("=SUM(A1)"), .null],
    ]

    @Test("integers and booleans written as cells parse back with Python's csv module", PythonCheck.enabled, arguments: dialects.indices)
    func typedCellsRoundTrip(_ index: Int) throws {
        let dialect = Self.dialects[index]
        let header = ["int", "flag", "text", "mixed", "other"]
        var encoder = try CSVEncoder(columns: header.map { .attribute($0) }, options: dialect.options)
        var buffer = OutputBuffer()
        try encoder.writeHeader(into: &buffer)
        for (number, row) in Self.typedCells.enumerated() { try encoder.write(cells: row, rowNumber: Int64(number + 1), into: &buffer) }
        try PythonCheck.verify("csv", data: buffer.bytes, header: header, cells: Self.typedCells, options: dialect.pythonOptions)
    }

    @Test("in a one-column file empty text and a missing value are both \"\"", PythonCheck.enabled, arguments: [CSVOptions.Quoting.minimal, .all])
    func singleColumn(_ quoting: CSVOptions.Quoting) throws {
        var encoder = try CSVEncoder(columns: [.attribute("only")], options: CSVOptions(quoting: quoting))
        let cells: [[CellValue]] = [[.text("")], [.null], [.integer(3)], [.text("x")]]
        var buffer = OutputBuffer()
        try encoder.writeHeader(into: &buffer)
        for (number, row) in cells.enumerated() { try encoder.write(cells: row, rowNumber: Int64(number + 1), into: &buffer) }
        let quoted = quoting == .all
        #expect(String(decoding: buffer.bytes, as: UTF8.self) == (quoted ? "\"only\"\r\n\"\"\r\n\"\"\r\n\"3\"\r\n\"x\"\r\n" : "only\r\n\"\"\r\n\"\"\r\n3\r\nx\r\n"))
        try PythonCheck.verify(
            "csv", data: buffer.bytes, header: ["only"], cells: cells,
            options: ["delimiter": ",", "quoting": quoted ? "all" : "minimal", "bom": "0", "crlf": "1", "neutralize": "1"])
    }

    @Test("the Python check notices empty text written unquoted, a quoted missing value and a missing quote", PythonCheck.enabled)
    func checkerCatchesQuotingDamage() throws {
        try #require(PythonCheck.isAvailable, "python3 is required (CI=true)")
        let header = ["id", "name", "ended", "count"]
        let cells: [[CellValue]] = [[.text("m"), .text(""), .null, .integer(-7)], [.text("n"), .null, .text(""), .bool(true)]]
        for quoting in [CSVOptions.Quoting.minimal, .all] {
            var encoder = try CSVEncoder(columns: header.map { .attribute($0) }, options: CSVOptions(quoting: quoting))
            var buffer = OutputBuffer()
            try encoder.writeHeader(into: &buffer)
            for (number, row) in cells.enumerated() { try encoder.write(cells: row, rowNumber: Int64(number + 1), into: &buffer) }
            let options = ["delimiter": ",", "quoting": quoting == .all ? "all" : "minimal", "bom": "0", "crlf": "1", "neutralize": "1"]
            let text = String(decoding: buffer.bytes, as: UTF8.self)
            #expect(try PythonCheck.check("csv", data: buffer.bytes, header: header, cells: cells, options: options).status == 0, "\(text)")
            let quote = quoting == .all ? "\"" : ""
            var damages = [
                text.replacingOccurrences(of: "\(quote)m\(quote),\"\",", with: "\(quote)m\(quote),,"),  // empty text unquoted
                text.replacingOccurrences(of: "\(quote)n\(quote),,", with: "\(quote)n\(quote),\"\","),  // missing value quoted
            ]
            if quoting == .all {
                damages.append(text.replacingOccurrences(of: "\"-7\"", with: "-7"))  // a typed value left unquoted
                damages.append(text.replacingOccurrences(of: "\"m\"", with: "m"))  // a text value left unquoted
            } else {
                damages.append(text.replacingOccurrences(of: ",-7", with: ",\"-7\""))  // quoted without need
            }
            for damaged in damages {
                #expect(damaged != text, "the damage did not apply to \(text.debugDescription)")
                let result = try PythonCheck.check("csv", data: Array(damaged.utf8), header: header, cells: cells, options: options)
                #expect(result.status != 0, "damage went unnoticed: \(damaged.debugDescription)")
            }
        }
    }

    @Test("the Python check notices damaged output", PythonCheck.enabled)
    func checkerCatchesDamage() throws {
        try #require(PythonCheck.isAvailable, "python3 is required (CI=true)")
        let columns: [ExportColumn] = [.membershipID, .organizationName, .startedAt, .amount]
        let row = Membership(
            membershipID: "-1", userID: "u", organizationID: "o", organizationName: "Zoë, \"quoted\"\r\nnext", plan: "p",
            role: "r", status: "s", startedAt: Date(timeIntervalSince1970: 1_700_000_000.25), amount: ExactDecimal(units: -1250, scale: 2))
        let options = ["delimiter": ",", "quoting": "minimal", "bom": "0", "crlf": "1", "neutralize": "1"]
        let good = try Self.encode(try CSVEncoder(columns: columns), [row])
        #expect(try PythonCheck.check("csv", data: good, columns: columns, rows: [row], options: options).status == 0)

        let text = String(decoding: good, as: UTF8.self)
        let damages = [
            text.replacingOccurrences(of: "\"'-1\"", with: "-1"),  // neutralisation missing
            text.replacingOccurrences(of: "Zoë", with: "Zoe"),  // text changed
            text.replacingOccurrences(of: ".250Z", with: ".251Z"),  // date off by a millisecond
            text.replacingOccurrences(of: "-12.50", with: "-12.5"),  // decimal scale lost
            String(text.dropLast(2)),  // missing line ending
        ]
        for damaged in damages {
            #expect(damaged != text)
            let result = try PythonCheck.check("csv", data: Array(damaged.utf8), columns: columns, rows: [row], options: options)
            #expect(result.status != 0, "damage went unnoticed: \(damaged.debugDescription)")
        }
    }
}
