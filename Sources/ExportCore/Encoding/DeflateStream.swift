import CZlib

/// A zlib deflate stream producing gzip (RFC 1952) output; owns the `z_stream` at a stable address.
///
/// zlib's state is about 256 KiB at the default window and memory level, whatever the input size.
final class DeflateStream {
    private let stream: UnsafeMutablePointer<z_stream>
    private var open = false

    /// Starts a gzip stream.
    ///
    /// - Throws: ``ExportError/Code/configuration`` for a level outside 0…9; ``ExportError/Code/transient``
    ///   when zlib cannot allocate its state.
    init(level: Int) throws(ExportError) {
        guard (0...9).contains(level) else {
            throw ExportError(.configuration, "the gzip compression level must be 0 to 9, not \(level)")
        }
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 + 16: a 32 KiB window, with a gzip header and trailer instead of zlib's.
        let status = czlib_deflate_init2(stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        guard status == Z_OK else {
            stream.deallocate()
            throw ExportError(.transient, "zlib could not start a gzip stream (status \(status))")
        }
        open = true
    }

    deinit {
        if open { deflateEnd(stream) }
        stream.deallocate()
    }

    /// Compresses `input` into `output`; with `finish`, also ends the stream (gzip trailer).
    ///
    /// - Throws: ``ExportError/Code/encoding`` when zlib reports an error, or the stream was finished.
    func compress(_ input: UnsafeBufferPointer<UInt8>, finish: Bool, into output: inout OutputBuffer) throws(ExportError) {
        guard open else { throw ExportError(.encoding, "the gzip stream was already finished") }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.pointee.avail_in = UInt32(input.count)
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
                deflateEnd(stream)
                open = false
                break
            }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                throw ExportError(.encoding, "zlib failed while compressing (status \(status))")
            }
            // Without finish, zlib is done once it has consumed all input and had room left over.
            if !finish && stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { break }
        }
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
    }
}
