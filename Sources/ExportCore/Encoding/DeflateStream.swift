import CZlib

/// A zlib deflate stream producing gzip (RFC 1952) output; owns the `z_stream` at a stable address.
///
/// zlib's state is about 256 KiB at the default window and memory level, whatever the input size.
final class DeflateStream {
    /// Starts zlib on a zeroed `z_stream` with a level; returns zlib's status (`Z_OK` on success).
    typealias Starter = (UnsafeMutablePointer<z_stream>, Int32) -> Int32

    /// The most input handed to zlib in one go: its `avail_in` is a 32-bit count.
    static let maximumPieceSize = Int(UInt32.max)

    private let stream: UnsafeMutablePointer<z_stream>
    private let pieceSize: Int
    private var open = false

    /// Starts a gzip stream.
    ///
    /// - Parameters:
    ///   - level: The zlib level, 0…9.
    ///   - pieceSize: The most input passed to one `deflate` call (tests make it small to exercise the
    ///     splitting that inputs over 4 GiB need); clamped to 1…``maximumPieceSize``.
    ///   - start: Starts zlib; tests replace it to make zlib fail.
    /// - Throws: ``ExportError/Code/configuration`` for a level outside 0…9; ``ExportError/Code/transient``
    ///   when zlib cannot allocate its state.
    init(level: Int, pieceSize: Int = maximumPieceSize, start: Starter = DeflateStream.startGzip) throws(ExportError) {
        guard (0...9).contains(level) else {
            throw ExportError(.configuration, "the gzip compression level must be 0 to 9, not \(level)")
        }
        // Allocated and started in a local first: `self.stream` is only set once zlib is running, so a
        // failure frees the memory here, exactly once (deinit runs after a throw only when every stored
        // property was set, and then it would free `stream` a second time).
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = start(stream, Int32(level))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw ExportError(.transient, "zlib could not start a gzip stream (status \(status))")
        }
        self.stream = stream
        self.pieceSize = min(max(1, pieceSize), Self.maximumPieceSize)
        open = true
    }

    /// zlib's gzip set-up: a 32 KiB window (15) plus 16 for a gzip header and trailer instead of zlib's.
    static func startGzip(_ stream: UnsafeMutablePointer<z_stream>, level: Int32) -> Int32 {
        czlib_deflate_init2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
    }

    deinit {
        if open { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `input` into `output`; with `finish`, also ends the stream (gzip trailer), and with
    /// `restart` as well, starts a new gzip member in the same state as a fresh stream.
    ///
    /// Input of any length is fed to zlib in pieces of at most ``maximumPieceSize`` bytes.
    ///
    /// - Throws: ``ExportError/Code/encoding`` when zlib reports an error, or the stream was finished.
    func compress(_ input: UnsafeBufferPointer<UInt8>, finish: Bool, restart: Bool = false, into output: inout OutputBuffer) throws(ExportError) {
        guard open else { throw ExportError(.encoding, "the gzip stream was already finished") }
        defer {
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
        }
        var offset = 0
        repeat {
            let length = min(pieceSize, input.count - offset)
            let last = offset + length == input.count
            stream.pointee.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0 + offset) }
            stream.pointee.avail_in = UInt32(truncatingIfNeeded: length)
            try deflatePiece(finish: finish && last, restart: restart, into: &output)
            offset += length
        } while offset < input.count
    }

    /// Runs `deflate` until zlib has consumed the current piece (and, with `finish`, ended the stream).
    private func deflatePiece(finish: Bool, restart: Bool, into output: inout OutputBuffer) throws(ExportError) {
        let flush = finish ? Z_FINISH : Z_NO_FLUSH
        while true {
            let room = 64 * 1024
            let out = output.reserve(room)
            stream.pointee.next_out = out
            stream.pointee.avail_out = UInt32(room)
            let status = deflate(stream, flush)
            let produced = room - Int(stream.pointee.avail_out)
            output.count += produced
            if status == Z_STREAM_END {
                if restart {
                    let reset = deflateReset(stream)
                    guard reset == Z_OK else { throw ExportError(.encoding, "zlib could not start the next gzip member (status \(reset))") }
                    return
                }
                deflateEnd(stream)
                open = false
                return
            }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                throw ExportError(.encoding, "zlib failed while compressing (status \(status))")
            }
            // Without finish, zlib is done once it has consumed all input and had room left over.
            if !finish && stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
        }
    }
}
