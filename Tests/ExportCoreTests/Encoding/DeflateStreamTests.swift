import CZlib
import Foundation
import Testing

@testable import ExportCore

@Suite("Deflate stream")
struct DeflateStreamTests {
    /// Inflates a gzip member with zlib's inflate (windowBits 15 + 16), independently of the encoder.
    static func gunzip(_ compressed: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        try #require(inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var input = compressed
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var status = Z_OK
        input.withUnsafeMutableBufferPointer { input in
            stream.next_in = input.baseAddress
            stream.avail_in = UInt32(input.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output += out[0..<(out.count - Int(stream.avail_out))]
                }
            } while status == Z_OK
        }
        try #require(status == Z_STREAM_END, "inflate ended with status \(status)")
        try #require(stream.avail_in == 0, "bytes after the gzip member")
        return output
    }

    @Test("a zlib start-up failure is a transient error, and the stream's memory is freed once", arguments: [Z_MEM_ERROR, Z_VERSION_ERROR])
    func startFailure(_ status: Int32) {
        // Before the fix the memory was freed in init and again in deinit: glibc aborts on the double free.
        for _ in 0..<100 {
            let error = #expect(throws: ExportError.self) { try DeflateStream(level: 6, start: { _, _ in status }) }
            #expect(error?.code == .transient && error?.isRetryable == true)
        }
    }

    @Test("input is fed to zlib in pieces, and the pieces make one gzip member", arguments: [1, 7, 4096, DeflateStream.maximumPieceSize])
    func pieces(_ pieceSize: Int) throws {
        var random = SplitMix64(seed: UInt64(pieceSize))
        let text = (0..<3000).map { _ in "row \(random.next() % 1000), \(random.next())\r\n" }.joined()
        let data = Array(text.utf8)
        for level in [0, 1, 6] {
            let stream = try DeflateStream(level: level, pieceSize: pieceSize)
            var output = OutputBuffer()
            // Three calls, the last one finishing on a piece of its own.
            let cut = data.count / 3
            try data[..<cut].withUnsafeBufferPointer { try stream.compress($0, finish: false, into: &output) }
            try data[cut...].withUnsafeBufferPointer { try stream.compress($0, finish: false, into: &output) }
            try [UInt8]().withUnsafeBufferPointer { try stream.compress($0, finish: true, into: &output) }
            #expect(try Self.gunzip(output.bytes) == data, "level \(level)")
            let error = #expect(throws: ExportError.self) {
                try [UInt8]().withUnsafeBufferPointer { try stream.compress($0, finish: true, into: &output) }
            }
            #expect(error?.code == .encoding)
        }
    }

    @Test("the piece size is clamped to what zlib's 32-bit counter holds")
    func pieceSizeClamp() throws {
        #expect(DeflateStream.maximumPieceSize == Int(UInt32.max))
        let stream = try DeflateStream(level: 1, pieceSize: 0)
        var output = OutputBuffer()
        try Array("abc".utf8).withUnsafeBufferPointer { try stream.compress($0, finish: true, into: &output) }
        #expect(try Self.gunzip(output.bytes) == Array("abc".utf8))
    }
}
