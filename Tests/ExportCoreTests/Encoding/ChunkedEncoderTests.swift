import ExportCore
import Foundation
import Testing

@Suite("Chunked encoder")
struct ChunkedEncoderTests {
    static let columns: [ExportColumn] = [.membershipID, .organizationName, .startedAt, .amount]

    static func rows(_ count: Int) -> [Membership] {
        (0..<count).map {
            CSVEncoderTests.row(id: "m-\($0)", name: String(repeating: "x", count: $0 % 37), amount: ExactDecimal(units: Int64($0), scale: 2))
        }
    }

    /// The whole file encoded at once, for comparison.
    static func whole(_ rows: [Membership]) throws -> [UInt8] {
        var encoder = try CSVEncoder(columns: columns)
        var buffer = OutputBuffer()
        try encoder.writeHeader(into: &buffer)
        for (index, row) in rows.enumerated() { try encoder.write(row, rowNumber: Int64(index + 1), into: &buffer) }
        try encoder.writeTrailer(into: &buffer)
        return buffer.bytes
    }

    @Test("every chunk but the last has exactly chunkSize bytes, and they add up to the file", arguments: [1, 7, 64, 1000, 65536])
    func chunkSizes(_ chunkSize: Int) throws {
        let rows = Self.rows(300)
        var chunks = ChunkedEncoder(try CSVEncoder(columns: Self.columns), chunkSize: chunkSize)
        var taken: [[UInt8]] = []
        for row in rows {
            try chunks.write(row)
            #expect(chunks.pendingByteCount < chunkSize + 200)
            while let chunk = chunks.takeChunk() { taken.append(chunk) }
            #expect(chunks.pendingByteCount < chunkSize)
        }
        let last = try chunks.finish()
        #expect(taken.allSatisfy { $0.count == chunkSize })
        #expect(last.allSatisfy { $0.count <= chunkSize && !$0.isEmpty })
        #expect((taken + last).joined().elementsEqual(try Self.whole(rows)))
        #expect(chunks.rowCount == 300)
    }

    @Test("an export with no rows is just the header")
    func empty() throws {
        var chunks = ChunkedEncoder(try CSVEncoder(columns: Self.columns))
        #expect(chunks.takeChunk() == nil)
        #expect(try chunks.finish() == [Array("membership_id,organization_name,started_at,amount\r\n".utf8)])
        #expect(chunks.rowCount == 0)
        var jsonl = ChunkedEncoder(JSONLinesEncoder(columns: Self.columns))
        #expect(try jsonl.finish().isEmpty)
    }

    @Test("gzip output is chunked the same way and stays small in memory")
    func gzipChunks() throws {
        var chunks = ChunkedEncoder(try ExportFormat.csvGzip.makeEncoder(columns: Self.columns), chunkSize: 1024)
        var total = 0
        for row in Self.rows(20_000) {
            try chunks.write(row)
            // The compressed output waiting is bounded by what one 64 KiB block can deflate to.
            #expect(chunks.pendingByteCount < 80 * 1024)
            while let chunk = chunks.takeChunk() {
                #expect(chunk.count == 1024)
                total += chunk.count
            }
        }
        total += try chunks.finish().reduce(0) { $0 + $1.count }
        #expect(total > 1024)
    }

    @Test("a copied OutputBuffer does not share writes (copy-on-write)")
    func copyOnWrite() {
        var first = OutputBuffer(minimumCapacity: 8)
        first.append(contentsOf: [1, 2, 3])
        var second = first
        second.append(4)
        first.append(5)
        #expect(first.bytes == [1, 2, 3, 5])
        #expect(second.bytes == [1, 2, 3, 4])
        first.removeFirst(2)
        #expect(first.bytes == [3, 5] && second.bytes == [1, 2, 3, 4])
        for _ in 0..<10_000 { second.append(9) }
        #expect(second.count == 10_004 && second.capacity >= 10_004)
    }
}
