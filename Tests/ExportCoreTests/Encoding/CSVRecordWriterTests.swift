import ExportCore
import Foundation
import Testing

@Suite("CSV record writer")
struct CSVRecordWriterTests {
    /// Text that is quoted, doubled, neutralised or sits across the eight-byte words of the scan.
    static let tricky: [String] = {
        var fields = [
            "", "a", "a,b", ",", "q\"uote", "\"", "\"\"", "\r", "\n", "\r\n", "line\r\nbreak", "tab\there", "semi;colon",
            "pipe|", "=1+2", "+1", "-3", "@x", "\tlead", "\rlead", "Zoë", "東京", "🎉 party", "é,\"ü\"\n", " spaced ",
            String(repeating: "x", count: 100_000), String(repeating: "y", count: 70_000) + "," + String(repeating: "z", count: 9),
            String(repeating: "\"", count: 40_000),
        ]
        // A special byte at each position of strings around the 4-, 8- and 16-byte loads of the scan.
        for length in [3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 25] {
            for position in [0, length / 2, length - 1] {
                for special in [",", "\"", "\r", "\n", ";", "\t"] {
                    var bytes = Array(repeating: UInt8(ascii: "k"), count: length)
                    bytes[position] = special.utf8.first!
                    fields.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        return fields
    }()

    static let dialects: [CSVOptions] = [
        CSVOptions(),
        CSVOptions(quoting: .all),
        CSVOptions(delimiter: UInt8(ascii: ";"), lineEnding: .lf, byteOrderMark: true),
        CSVOptions(delimiter: UInt8(ascii: "\t"), neutralizeFormulas: false),
        CSVOptions(quoting: .all, lineEnding: .lf, includeHeader: false, neutralizeFormulas: false),
    ]

    static let columns: [ExportColumn] = [.attribute("a"), .attribute("b"), .attribute("c")]

    /// The rows as `write(cells:rowNumber:into:)` writes them.
    static func viaCells(_ rows: [[CellValue]], columns: [ExportColumn] = columns, _ options: CSVOptions) throws -> [UInt8] {
        var encoder = try CSVEncoder(columns: columns, options: options)
        var buffer = OutputBuffer()
        try encoder.writeHeader(into: &buffer)
        for (index, row) in rows.enumerated() { try encoder.write(cells: row, rowNumber: Int64(index + 1), into: &buffer) }
        return buffer.bytes
    }

    /// The rows through a `CSVRecordWriter`, drained whenever 64 KiB are buffered; text as strings, or
    /// as UTF-8 bytes with `utf8`.
    static func viaWriter(_ rows: [[CellValue]], columns: [ExportColumn] = columns, _ options: CSVOptions, utf8: Bool) throws -> [UInt8] {
        var writer = CSVRecordWriter(encoder: try CSVEncoder(columns: columns, options: options), buffer: OutputBuffer(minimumCapacity: 64))
        var out: [UInt8] = []
        try writer.writeHeader()
        for (index, row) in rows.enumerated() {
            for cell in row {
                switch cell {
                case .text(let text) where utf8: Array(text.utf8).withUnsafeBufferPointer { writer.text(utf8: $0) }
                case .text(let text): writer.text(text)
                case .integer(let number): writer.integer(number)
                case .null: writer.null()
                default: writer.cell(cell)
                }
            }
            try writer.endRecord(rowNumber: Int64(index + 1))
            if writer.count >= 1 << 16 { writer.drain { out.append(contentsOf: $0) } }
        }
        writer.drain { out.append(contentsOf: $0) }
        #expect(writer.count == 0)
        return out
    }

    @Test("writes exactly what the cell API writes, for tricky text in every dialect", arguments: 0..<5)
    func sameAsCells(_ dialect: Int) throws {
        let options = Self.dialects[dialect]
        var rows: [[CellValue]] = []
        for (index, field) in Self.tricky.enumerated() {
            rows.append([.text(field), .integer(Int64(index)), .text(Self.tricky[(index * 7 + 3) % Self.tricky.count])])
            rows.append([.null, .text(field), .null])
        }
        let expected = try Self.viaCells(rows, options)
        #expect(expected.count > 3 << 16, "the rows cross several 64 KiB drains")
        #expect(try Self.viaWriter(rows, options, utf8: false) == expected)
        #expect(try Self.viaWriter(rows, options, utf8: true) == expected)
    }

    @Test("integers, decimals, dates, booleans and missing values as the cell API writes them", arguments: 0..<5)
    func typedSameAsCells(_ dialect: Int) throws {
        let options = Self.dialects[dialect]
        let rows: [[CellValue]] = [
            [.integer(.min), .integer(.max), .integer(0)],
            [.integer(-1), .integer(9), .integer(10)],
            [.decimal(ExactDecimal(units: -1250, scale: 2)), .date(Date(timeIntervalSince1970: 1_700_000_000.5)), .bool(false)],
            [.bool(true), .null, .date(Date(timeIntervalSince1970: 0))],
            [.text("only one")],
            [],
            [.integer(1), .integer(2), .integer(3), .integer(4), .text("extra"), .null],
        ]
        let expected = try Self.viaCells(rows, options)
        #expect(try Self.viaWriter(rows, options, utf8: false) == expected)
        let one: [[CellValue]] = [[.null], [.text("")], [.integer(5)]]
        #expect(try Self.viaWriter(one, columns: [.attribute("x")], options, utf8: true) == Self.viaCells(one, columns: [.attribute("x")], options))
    }

    @Test("a field with NUL or a date out of range fails its record only, naming row and column as the cell API does")
    func failureTakesTheRecordBack() throws {
        let encoder = try CSVEncoder(columns: Self.columns)
        var writer = CSVRecordWriter(encoder: encoder)
        writer.text("kept")
        try writer.endRecord(rowNumber: 1)
        writer.text("fine")
        writer.text("a\u{0}b")
        writer.cell(.date(Date(timeIntervalSince1970: 1e15)))
        let error = try #require(throws: ExportError.self) { try writer.endRecord(rowNumber: 2) }
        var buffer = OutputBuffer()
        let reference = try #require(throws: ExportError.self) {
            try encoder.write(cells: [.text("fine"), .text("a\u{0}b"), .date(Date(timeIntervalSince1970: 1e15))], rowNumber: 2, into: &buffer)
        }
        #expect(error.code == .encoding && error.message == reference.message)
        #expect(error.message.contains("row 2") && error.message.contains("\"b\"") && error.message.contains("NUL"))

        writer.cell(.text("x"))
        writer.cell(.date(Date(timeIntervalSince1970: -1e15)))
        let date = try #require(throws: ExportError.self) { try writer.endRecord(rowNumber: 3) }
        #expect(date.message.contains("row 3") && date.message.contains("\"b\"") && date.message.contains("0000…9999"))

        writer.integer(4)
        try writer.endRecord(rowNumber: 4)
        writer.text("not ended")
        #expect(String(decoding: writer.finish().bytes, as: UTF8.self) == "kept,,\r\n4,,\r\n")
    }

    @Test("the header, and draining keeps a record not yet ended")
    func headerAndDrain() throws {
        let options = CSVOptions(byteOrderMark: true)
        let encoder = try CSVEncoder(columns: Self.columns, options: options)
        var writer = CSVRecordWriter(encoder: encoder)
        try writer.writeHeader()
        writer.text("a")
        var drained: [UInt8] = []
        writer.drain { drained.append(contentsOf: $0) }
        #expect(drained == [0xEF, 0xBB, 0xBF] + Array("a,b,c\r\n".utf8))
        writer.text("b")
        try writer.endRecord(rowNumber: 1)
        struct Refused: Error {}
        do {
            try writer.drain { (_: UnsafeBufferPointer<UInt8>) throws(Refused) in throw Refused() }
            Issue.record("drain did not throw")
        } catch {}
        writer.drain { drained.append(contentsOf: $0) }
        #expect(String(decoding: drained.dropFirst(3), as: UTF8.self) == "a,b,c\r\na,b,\r\n")
    }
}
