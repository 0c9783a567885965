import ExportCore
import Foundation
import Testing

/// A failing row or header leaves the caller's buffer exactly as it was, whichever entry point is used.
@Suite("Encoders roll back what a failed call wrote")
struct EncoderFailureTests {
    static let prefix = Array("earlier bytes\n".utf8)

    static func buffer() -> OutputBuffer {
        var buffer = OutputBuffer(minimumCapacity: 64)
        buffer.append(contentsOf: prefix)
        return buffer
    }

    @Test("CSVEncoder.write(_:rowNumber:into:) leaves no half row behind")
    func csvRow() throws {
        var encoder = try CSVEncoder(columns: [.membershipID, .organizationName, .attribute("note"), .status])
        var buffer = Self.buffer()
        let error = try #require(throws: ExportError.self) {
            try encoder.write(CSVEncoderTests.row(attributes: ["note": "a\u{0}b"]), rowNumber: 4, into: &buffer)
        }
        #expect(error.code == .encoding && error.message.contains("row 4"))
        #expect(buffer.bytes == Self.prefix)
        // The buffer is still usable, and the next row follows the earlier bytes directly.
        try encoder.write(CSVEncoderTests.row(), rowNumber: 5, into: &buffer)
        #expect(String(decoding: buffer.bytes, as: UTF8.self) == "earlier bytes\nm-1,Acme,,active\r\n")
    }

    @Test("CSVEncoder.write(cells:) leaves no half row behind")
    func csvCells() throws {
        let encoder = try CSVEncoder(columns: [.attribute("a"), .attribute("b"), .attribute("c")])
        var buffer = Self.buffer()
        #expect(throws: ExportError.self) {
            try encoder.write(cells: [.integer(7), .bool(false), .text("x\u{0}")], rowNumber: 1, into: &buffer)
        }
        #expect(buffer.bytes == Self.prefix)
        #expect(throws: ExportError.self) {
            try encoder.write(cells: [.text("ok"), .date(Date(timeIntervalSince1970: 1e15))], rowNumber: 2, into: &buffer)
        }
        #expect(buffer.bytes == Self.prefix)
    }

    @Test("JSONLinesEncoder.write leaves no half object behind")
    func jsonLinesRow() throws {
        var encoder = JSONLinesEncoder(columns: [.membershipID, .organizationName, .endedAt])
        var buffer = Self.buffer()
        #expect(throws: ExportError.self) {
            try encoder.write(CSVEncoderTests.row(ended: 1e15), rowNumber: 1, into: &buffer)
        }
        #expect(buffer.bytes == Self.prefix)
    }

    @Test("CSVEncoder.writeHeader leaves neither the byte-order mark nor part of the header behind")
    func csvHeader() throws {
        var encoder = try CSVEncoder(columns: [.membershipID, .attribute("bad\u{0}name")], options: CSVOptions(byteOrderMark: true))
        var buffer = Self.buffer()
        #expect(throws: ExportError.self) { try encoder.writeHeader(into: &buffer) }
        #expect(buffer.bytes == Self.prefix)
    }

    /// Writes part of a header and then fails; rows are `row\n`.
    struct BrokenHeaderEncoder: RowEncoder {
        var headerAttempts = 0

        mutating func writeHeader(into buffer: inout OutputBuffer) throws(ExportError) {
            headerAttempts += 1
            buffer.append(contentsOf: Array("partial header".utf8))
            throw ExportError(.encoding, "header failed")
        }

        mutating func write(_ row: Membership, rowNumber: Int64, into buffer: inout OutputBuffer) throws(ExportError) {
            buffer.append(contentsOf: Array("row\n".utf8))
        }
    }

    @Test("ChunkedEncoder drops a failed header and tries it again rather than writing rows without it")
    func chunkedHeader() throws {
        var chunks = ChunkedEncoder(BrokenHeaderEncoder(), chunkSize: 4)
        #expect(throws: ExportError.self) { try chunks.write(CSVEncoderTests.row()) }
        #expect(chunks.pendingByteCount == 0)
        #expect(chunks.takeChunk() == nil)
        // Still not started: the next row hits the header again instead of going out headerless.
        #expect(throws: ExportError.self) { try chunks.write(CSVEncoderTests.row()) }
        #expect(chunks.pendingByteCount == 0 && chunks.rowCount == 0)
        #expect(throws: ExportError.self) { try chunks.finish() }
    }

    @Test("ChunkedEncoder over a real CSV header failure keeps no byte-order mark")
    func chunkedCSVHeader() throws {
        let encoder = try CSVEncoder(columns: [.membershipID, .attribute("=bad\u{0}")], options: CSVOptions(byteOrderMark: true))
        var chunks = ChunkedEncoder(encoder)
        #expect(throws: ExportError.self) { try chunks.write(CSVEncoderTests.row()) }
        #expect(chunks.pendingByteCount == 0)
        #expect(throws: ExportError.self) { try chunks.write(CSVEncoderTests.row()) }
        #expect(chunks.rowCount == 0)
    }

    @Test("GzipEncoder.writeHeader discards the inner encoder's partial header before compressing")
    func gzipHeader() throws {
        // Level 0 stores the bytes as they are, so what was compressed can be seen in the output.
        var encoder = try GzipEncoder(BrokenHeaderEncoder(), level: 0)
        var buffer = OutputBuffer()
        #expect(throws: ExportError.self) { try encoder.writeHeader(into: &buffer) }
        try encoder.write(CSVEncoderTests.row(), rowNumber: 1, into: &buffer)
        try encoder.writeTrailer(into: &buffer)
        let output = buffer.bytes
        #expect(output.starts(with: [0x1F, 0x8B]))
        #expect(output.firstRange(of: Array("row\n".utf8)) != nil, "level 0 stores the row as it is")
        #expect(output.firstRange(of: Array("partial".utf8)) == nil, "the failed header reached the gzip stream")
    }
}
