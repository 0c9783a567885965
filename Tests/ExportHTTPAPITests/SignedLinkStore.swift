import ExportAdapters
import ExportCore
import Foundation

/// A blob store over ``InMemoryBlobStore`` whose links point at the handler's signed-download route
/// and which verifies them, as a file-system blob store does: `<prefix>/<base64url key>?expires=<unix
/// seconds>&filename=<name>&signature=<hex HMAC-SHA256 over key, expiry and file name>`. It adds fault
/// injection (through ``inner``); `FileBlobStoreDownloadTests` and the contract walk also run the real
/// ``FileBlobStore``.
struct SignedLinkStore: BlobStore, SignedDownloadResolver {
    let inner: InMemoryBlobStore
    let clock: any ExportClock
    let prefix: String
    let secret: [UInt8] = Array("test-secret-0123456789".utf8)

    func beginWrite(key: BlobKey, contentType: String) async throws -> any BlobWriter {
        try await inner.beginWrite(key: key, contentType: contentType)
    }

    func read(_ key: BlobKey) async throws -> AsyncThrowingStream<[UInt8], any Error> { try await inner.read(key) }

    func metadata(_ key: BlobKey) async throws -> BlobMetadata? { try await inner.metadata(key) }

    func delete(_ key: BlobKey) async throws { try await inner.delete(key) }

    func abortIncompleteWrites(startedBefore date: Date) async throws -> Int {
        try await inner.abortIncompleteWrites(startedBefore: date)
    }

    func downloadLink(for key: BlobKey, filename: String, expiresIn: Duration) async throws -> DownloadLink {
        let expiresAt = clock.now().adding(expiresIn)
        let expires = String(Int64(expiresAt.timeIntervalSince1970.rounded(.down)))
        guard var components = URLComponents(string: prefix + "/" + DownloadLinkSigner.token(for: key)) else { throw ExportError(.invalidRequest, "bad prefix") }
        components.queryItems = [
            URLQueryItem(name: "expires", value: expires),
            URLQueryItem(name: "filename", value: filename),
            URLQueryItem(name: "signature", value: signature(key.rawValue, expires, filename)),
        ]
        guard let url = components.url else { throw ExportError(.invalidRequest, "bad file name") }
        return DownloadLink(url: url, expiresAt: expiresAt)
    }

    func verify(path: String, query: [URLQueryItem]) async throws -> SignedDownloadVerdict {
        func value(_ name: String) -> String? { query.first { $0.name == name }?.value }
        guard let text = DownloadLinkSigner.keyText(fromToken: String(path.dropFirst())), let key = BlobKey(text), let expires = value("expires"), let seconds = Int64(expires),
            let filename = value("filename"), let given = value("signature")
        else { return .badSignature }
        guard HMACSHA256.constantTimeEquals(Array(given.utf8), Array(signature(key.rawValue, expires, filename).utf8)) else {
            return .badSignature
        }
        guard clock.now() < Date(timeIntervalSince1970: Double(seconds)) else { return .expired }
        return .valid(key: key, filename: filename)
    }

    private func signature(_ key: String, _ expires: String, _ filename: String) -> String {
        HMACSHA256.authenticationCode(for: Array("\(key)\n\(expires)\n\(filename)".utf8), key: secret).hexString
    }
}
