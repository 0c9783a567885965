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
             "neutralize": neutralize ? "1" : "0"]
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
            options: ["delimiter": ",", "bom": level == 9 ? "1" : "0", "crlf": "1", "neutralize": "1", "gzip": "1"])

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("encoder-\(UUID().uuidString).csv.gz")
        try Data(compressed).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let decompressed = try PythonCheck.runForBytes(["gzip", "-d", "-c", file.path])
        #expect(decompressed.status == 0, "gzip -d -c exited with \(decompressed.status) (127: gzip is not installed)")
        #expect(decompressed.output == plain, "gzip -d gives back the plain CSV")
    }

    @Test("the Python check notices damaged output", PythonCheck.enabled)
    func checkerCatchesDamage() throws {
        try #require(PythonCheck.isAvailable, "python3 is required (CI=true)")
        let columns: [ExportColumn] = [.membershipID, .organizationName, .startedAt, .amount]
        let row = Membership(
            membershipID: "-1", userID: "u", organizationID: "o", organizationName: "Zoë, \"quoted\"\r\nnext", plan: "p",
            role: "r", status: "s", startedAt: Date(timeIntervalSince1970: 1_700_000_000.25), amount: ExactDecimal(units: -1250, scale: 2))
        let options = ["delimiter": ",", "bom": "0", "crlf": "1", "neutralize": "1"]
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
