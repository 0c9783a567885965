import ExportCore
import Foundation

/// Signs and verifies the download links of ``FileBlobStore``: the piece a host's download route calls.
///
/// A link is `<base>/<token>?expires=<unix seconds>&filename=<name>&signature=<hex>`, where `<token>` is
/// the blob key in unpadded base64url (RFC 4648 §5), so the link is **one path segment** whatever the
/// key's `/`s (an OpenAPI path parameter cannot contain `/`; a generated client would send `%2F`), and
/// the signature is HMAC-SHA256, under the configured secret, of `v1\n<key>\n<expires>\n<filename>`.
/// Changing the token, the expiry or the file name invalidates the signature.
///
/// ```swift
/// let verified = try signer.verify(token: lastPathSegment, query: queryItems, now: Date())
/// // stream FileBlobStore.read(verified.key) with Content-Disposition: attachment; filename=verified.filename
/// ```
public struct DownloadLinkSigner: Sendable {
    private let secret: [UInt8]
    /// The URL downloads are served under.
    public let baseURL: URL

    /// Creates a signer.
    ///
    /// - Parameters:
    ///   - secret: The HMAC-SHA256 secret shared with the store that made the links.
    ///   - baseURL: The URL downloads are served under.
    public init(secret: [UInt8], baseURL: URL) {
        self.secret = secret
        self.baseURL = baseURL
    }

    /// Makes a signed link.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    ///   - filename: The suggested file name; reduced to `A-Z a-z 0-9 . _ -` (others become `_`), at most
    ///     100 bytes, `download` when nothing is left.
    ///   - expiresAt: When the link stops working; rounded down to a whole second.
    /// - Returns: The link and its (rounded) expiry.
    public func link(for key: BlobKey, filename: String, expiresAt: Date) -> DownloadLink {
        let expires = POSIXFile.clampedInt64(expiresAt.timeIntervalSince1970.rounded(.down))
        let name = Self.sanitizedFilename(filename)
        let signature = sign(key: key.rawValue, expires: String(expires), filename: name)
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        let text = "\(base)/\(Self.token(for: key))?expires=\(expires)&filename=\(name)&signature=\(signature)"
        // Every part is URL-safe by construction (base64url, the file name alphabet, digits, hex).
        let url = URL(string: text) ?? baseURL
        return DownloadLink(url: url, expiresAt: Date(timeIntervalSince1970: TimeInterval(expires)))
    }

    /// The single path segment that stands for a key in a link: the key in unpadded base64url.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Returns: The token, such as `ZXhwb3J0cy91MS9qb2IuY3N2` for `exports/u1/job.csv`.
    public static func token(for key: BlobKey) -> String {
        var text = Data(key.rawValue.utf8).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    /// Decodes a link's token back to its key text, accepting only the canonical form ``token(for:)``
    /// makes (no padding, no `+` or `/`, no other spelling of the same bytes).
    ///
    /// - Parameters:
    ///   - token: The path segment after the base URL's path.
    /// - Returns: The key text (not yet validated as a `BlobKey`), or `nil` when it is not a token.
    public static func keyText(fromToken token: String) -> String? {
        guard !token.isEmpty, token.utf8.count <= 1024,
            token.utf8.allSatisfy({ byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    true
                default:
                    false
                }
            })
        else { return nil }
        var base64 = String(token.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            let key = BlobKey(text), token == Self.token(for: key)
        else { return nil }
        return text
    }

    /// Verifies a link's parts as a download route receives them: the token (the one path segment
    /// after the base URL's path) and the query.
    ///
    /// - Parameters:
    ///   - token: The path segment after the base URL's path, as ``token(for:)`` made it.
    ///   - query: The query parameters (`expires`, `filename`, `signature`).
    ///   - now: The current time.
    /// - Returns: The key and file name to serve.
    /// - Throws: ``DownloadLinkRejection`` as ``verify(key:query:now:)`` does; ``DownloadLinkRejection/malformed(_:)``
    ///   also when the token is not the base64url of a valid key.
    public func verify(token: String, query: [String: String], now: Date) throws(DownloadLinkRejection) -> VerifiedDownload {
        guard let key = Self.keyText(fromToken: token) else { throw .malformed("the link's path is not a key token") }
        return try verify(key: key, query: query, now: now)
    }

    /// Verifies a link's parts once the token has been decoded to the key.
    ///
    /// - Parameters:
    ///   - key: The blob key the link's token stands for, such as `exports/u1/job.csv`.
    ///   - query: The query parameters (`expires`, `filename`, `signature`).
    ///   - now: The current time.
    /// - Returns: The key and file name to serve.
    /// - Throws: ``DownloadLinkRejection/malformed(_:)`` when a part is missing or invalid, or the query
    ///   holds a parameter other than the three (a link has one spelling: nothing unsigned rides along),
    ///   ``DownloadLinkRejection/badSignature`` when the link was altered or signed with another secret,
    ///   ``DownloadLinkRejection/expired(at:)`` when it was valid but has expired.
    public func verify(key: String, query: [String: String], now: Date) throws(DownloadLinkRejection) -> VerifiedDownload {
        guard let blobKey = BlobKey(key) else { throw .malformed("the key is not a valid blob key") }
        if let extra = query.keys.first(where: { !Self.parameterNames.contains($0) }) {
            throw .malformed("the parameter \(String(extra.prefix(40)).debugDescription) is not part of a download link")
        }
        guard let expiresText = query["expires"], let expires = Int64(expiresText), expiresText == String(expires) else {
            throw .malformed("the expires parameter is missing or not a whole number")
        }
        guard let filename = query["filename"], filename == Self.sanitizedFilename(filename) else {
            throw .malformed("the filename parameter is missing or not a safe file name")
        }
        guard let signatureText = query["signature"], let given = Hex.decodeCanonical(signatureText, byteCount: 32) else {
            throw .malformed("the signature parameter is missing or not 64 lower-case hex digits")
        }
        let expected = HMACSHA256.authenticationCode(for: message(key: key, expires: expiresText, filename: filename), key: secret)
        guard HMACSHA256.constantTimeEquals(expected.bytes, given) else { throw .badSignature }
        let expiresAt = Date(timeIntervalSince1970: TimeInterval(expires))
        guard now < expiresAt else { throw .expired(at: expiresAt) }
        return VerifiedDownload(key: blobKey, filename: filename, expiresAt: expiresAt)
    }

    /// Verifies a whole link URL (it must start with the base URL's path).
    ///
    /// The path is compared percent-decoded, so a base URL such as `https://h.test/d%20l` matches its
    /// links however a client spells the encoding (`%20`, or `%2f` for `%2F`).
    ///
    /// - Parameters:
    ///   - url: The requested URL.
    ///   - now: The current time.
    /// - Returns: The key and file name to serve.
    /// - Throws: ``DownloadLinkRejection`` as ``verify(token:query:now:)`` does.
    public func verify(_ url: URL, now: Date) throws(DownloadLinkRejection) -> VerifiedDownload {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw .malformed("the URL cannot be parsed")
        }
        // Both sides percent-encoded as they arrived, then decoded: `baseURL.path` is already decoded
        // while the request's path is not, so comparing those two refused every link under `/d%20l`.
        var basePath = URLComponents(url: baseURL, resolvingAgainstBaseURL: true)?.percentEncodedPath ?? baseURL.path
        while basePath.hasSuffix("/") { basePath.removeLast() }
        let path = components.percentEncodedPath
        guard let slash = path.lastIndex(of: "/"),
            let directory = String(path[..<slash]).removingPercentEncoding,
            let decodedBase = basePath.removingPercentEncoding,
            directory == decodedBase,
            let token = String(path[path.index(after: slash)...]).removingPercentEncoding
        else { throw .malformed("the URL is not under the download base path") }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard query[item.name] == nil else { throw .malformed("the parameter \(item.name) is repeated") }
            query[item.name] = item.value ?? ""
        }
        return try verify(token: token, query: query, now: now)
    }

    /// Reduces a file name to `A-Z a-z 0-9 . _ -`, at most 100 bytes, never empty or a dot name.
    ///
    /// - Parameters:
    ///   - filename: The requested name.
    /// - Returns: The safe name.
    public static func sanitizedFilename(_ filename: String) -> String {
        var bytes: [UInt8] = filename.utf8.prefix(100).map { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                byte
            default:
                UInt8(ascii: "_")
            }
        }
        while bytes.first == UInt8(ascii: ".") { bytes.removeFirst() }
        return bytes.isEmpty ? "download" : String(decoding: bytes, as: UTF8.self)
    }

    /// The query parameters of a link, all signed; any other is refused.
    private static let parameterNames: Set<String> = ["expires", "filename", "signature"]

    private func message(key: String, expires: String, filename: String) -> [UInt8] {
        Array("v1\n\(key)\n\(expires)\n\(filename)".utf8)
    }

    private func sign(key: String, expires: String, filename: String) -> String {
        HMACSHA256.authenticationCode(for: message(key: key, expires: expires, filename: filename), key: secret).hexString
    }
}
