/// The body of an ``APIResponse``: bytes at hand, or a stream for file downloads.
public enum APIResponseBody: Sendable {
    /// A complete body (JSON and problem documents; empty for 204, 302 and similar).
    case bytes([UInt8])
    /// A body read from storage in chunks, with its exact length (also sent as `Content-Length`).
    case stream(AsyncThrowingStream<[UInt8], any Error>, length: Int64)

    /// Reads the whole body into memory, for tests and small bodies.
    ///
    /// - Returns: The bytes.
    /// - Throws: The stream's error.
    public func collect() async throws -> [UInt8] {
        switch self {
        case .bytes(let bytes):
            return bytes
        case .stream(let stream, _):
            var bytes: [UInt8] = []
            for try await chunk in stream { bytes.append(contentsOf: chunk) }
            return bytes
        }
    }
}
