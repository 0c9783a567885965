import ExportCore
import Foundation

// Asynchronous, as they were when the store was an actor, so callers' `await`s stay as they are.
extension InMemoryBlobStore {
    /// The bytes of a finished blob, without consulting ``faults``.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Returns: Its bytes, or `nil` when there is no such blob.
    public func contents(of key: BlobKey) async -> [UInt8]? { state.withLock { $0.blobs[key]?.bytes } }

    /// The keys of every finished blob, sorted.
    public var keys: [BlobKey] {
        get async { state.withLock { Array($0.blobs.keys) }.sorted() }
    }

    /// The number of writers neither finished nor aborted (nor cleaned up).
    public var openWriterCount: Int {
        get async { openUploads }
    }

    /// Follows a link from ``downloadLink(for:filename:expiresIn:)`` as a browser would.
    ///
    /// - Parameters:
    ///   - url: The link.
    /// - Returns: The blob's bytes.
    /// - Throws: `ExportError.Code.unauthorized` when the link was altered or has expired on ``clock``,
    ///   `ExportError.Code.notFound` when the blob is gone.
    public func download(_ url: URL) async throws(ExportError) -> [UInt8] {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
            components.scheme == "memory", components.host == "blobs",
            let key = BlobKey(String(components.path.dropFirst())),
            let expires = components.queryItems?.first(where: { $0.name == "expires" })?.value,
            let filename = components.queryItems?.first(where: { $0.name == "filename" })?.value,
            let given = components.queryItems?.first(where: { $0.name == "signature" })?.value,
            let expiry = Int64(expires)
        else { throw ExportError(.unauthorized, "not a link of this store") }
        let expected = signature(key: key.rawValue, expires: expires, filename: filename)
        guard HMACSHA256.constantTimeEquals(Array(given.utf8), Array(expected.utf8)) else {
            throw ExportError(.unauthorized, "the link's signature does not match")
        }
        guard clock.now() < Date(timeIntervalSince1970: Double(expiry)) else {
            throw ExportError(.unauthorized, "the link has expired")
        }
        guard let bytes = state.withLock({ $0.blobs[key]?.bytes }) else { throw ExportError(.notFound, "no blob \(key)") }
        return bytes
    }
}
