import ExportCore
import Foundation

/// AWS Signature Version 4: signs requests in the `Authorization` header or as presigned URLs.
///
/// The signer works on decoded parts (path, query items, headers) and produces both the wire URL and
/// the signature from the same encoding, so what is sent is what was signed. S3 encodes the path
/// once; every other service encodes the already-encoded path a second time
/// (``doubleEncodePath``). Paths are never normalised (S3 keys may contain `//` or `..`).
/// The date is a parameter, so tests reproduce AWS's published vectors exactly.
public struct AWSSigner: Sendable {
    /// What the signature says about the body.
    public enum Payload: Sendable, Hashable {
        /// The body's bytes, hashed into the signature.
        case bytes([UInt8])
        /// `UNSIGNED-PAYLOAD`: the body is not covered (S3 presigned URLs, large streamed uploads).
        case unsigned
        /// A hash computed elsewhere (hex SHA-256).
        case precomputed(String)

        /// The hex hash or the literal that goes into the canonical request.
        public var hash: String {
            switch self {
            case .bytes(let bytes): SHA256Hasher.hash(bytes).hexString
            case .unsigned: "UNSIGNED-PAYLOAD"
            case .precomputed(let hash): hash
            }
        }
    }

    /// The credentials.
    public var credentials: AWSCredentials
    /// The region, such as `us-east-1`.
    public var region: String
    /// The signing name of the service, such as `s3`, `sqs`, `dynamodb` or `ses`.
    public var service: String
    /// Whether the canonical URI encodes the encoded path again (every service but S3).
    public var doubleEncodePath: Bool

    /// Creates a signer.
    ///
    /// - Parameters:
    ///   - credentials: The credentials.
    ///   - region: The region.
    ///   - service: The service's signing name.
    ///   - doubleEncodePath: Whether to encode the path twice; by default `true` except for `s3`.
    public init(credentials: AWSCredentials, region: String, service: String, doubleEncodePath: Bool? = nil) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.doubleEncodePath = doubleEncodePath ?? (service != "s3")
    }

    /// Signs a request with the `Authorization` header.
    ///
    /// Adds `X-Amz-Date`, `X-Amz-Security-Token` (with a session token) and, when asked,
    /// `X-Amz-Content-SHA256` to the headers, and signs every header given plus `host`.
    ///
    /// - Parameters:
    ///   - method: The method.
    ///   - endpoint: The scheme, host and port; a path in it is prefixed to `path`.
    ///   - path: The decoded path, starting with `/`.
    ///   - query: The decoded query items, in any order.
    ///   - headers: Headers to send and sign (not `Host`, which comes from the endpoint).
    ///   - payload: The body's hash mode.
    ///   - contentHashHeader: Whether to send `X-Amz-Content-SHA256` (S3 requires it).
    ///   - date: The signing time.
    /// - Returns: The signed request's parts.
    public func sign(
        method: String,
        endpoint: URL,
        path: String,
        query: [(String, String)] = [],
        headers: [(name: String, value: String)] = [],
        payload: Payload,
        contentHashHeader: Bool = false,
        date: Date
    ) -> AWSSignedRequest {
        let stamp = Self.timestamp(date)
        // Computed once: for `.bytes` it hashes the whole body, which the header and the canonical
        // request both need; asking `payload.hash` twice hashed every uploaded part twice.
        let payloadHash = payload.hash
        var headers = headers
        headers.append(("X-Amz-Date", stamp))
        if contentHashHeader { headers.append(("X-Amz-Content-SHA256", payloadHash)) }
        if let token = credentials.sessionToken { headers.append(("X-Amz-Security-Token", token)) }
        let host = Self.hostHeader(endpoint)
        let signedHeaders = Self.canonicalHeaderNames(headers, host: host)
        let fullPath = Self.joinedPath(endpoint: endpoint, path: path)
        let canonical = canonicalRequest(
            method: method, path: fullPath, query: query, headers: headers, host: host,
            signedHeaders: signedHeaders, payloadHash: payloadHash
        )
        let scope = credentialScope(date: stamp)
        let toSign = Self.stringToSign(timestamp: stamp, scope: scope, canonicalRequest: canonical)
        let signature = signature(of: toSign, date: stamp)
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"
        headers.append(("Authorization", authorization))
        return AWSSignedRequest(
            url: Self.wireURL(endpoint: endpoint, path: fullPath, query: query),
            headers: headers,
            canonicalRequest: canonical,
            stringToSign: toSign,
            signature: signature
        )
    }

    /// The longest a SigV4 presigned URL may last: 7 days, in seconds.
    public static let maximumPresignSeconds = 604_800

    /// Makes a presigned URL: the signature travels in the query, valid for `expires`.
    ///
    /// - Parameters:
    ///   - method: The method the URL allows.
    ///   - endpoint: The scheme, host and port; a path in it is prefixed to `path`.
    ///   - path: The decoded path.
    ///   - query: Extra decoded query items (such as `response-content-disposition`).
    ///   - headers: Headers the user of the URL must send (signed); usually none.
    ///   - expires: How long the URL works, in whole seconds (1 to 604,800).
    ///   - payload: The body's hash mode; S3 uses `.unsigned`.
    ///   - date: The signing time.
    /// - Returns: The presigned request's parts; ``AWSSignedRequest/url`` is the link.
    /// - Throws: `ExportError.Code.invalidRequest` when `expires` is outside 1…604,800 seconds,
    ///   which AWS refuses when the link is used.
    public func presign(
        method: String,
        endpoint: URL,
        path: String,
        query: [(String, String)] = [],
        headers: [(name: String, value: String)] = [],
        expires: Int,
        payload: Payload = .unsigned,
        date: Date
    ) throws(ExportError) -> AWSSignedRequest {
        guard (1...Self.maximumPresignSeconds).contains(expires) else {
            throw ExportError(.invalidRequest, "A presigned URL lasts 1 to \(Self.maximumPresignSeconds) seconds, not \(expires)")
        }
        let stamp = Self.timestamp(date)
        let scope = credentialScope(date: stamp)
        let host = Self.hostHeader(endpoint)
        let signedHeaders = Self.canonicalHeaderNames(headers, host: host)
        var query = query
        query.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        query.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"))
        query.append(("X-Amz-Date", stamp))
        query.append(("X-Amz-Expires", String(expires)))
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        query.append(("X-Amz-SignedHeaders", signedHeaders.joined(separator: ";")))
        let fullPath = Self.joinedPath(endpoint: endpoint, path: path)
        let canonical = canonicalRequest(
            method: method, path: fullPath, query: query, headers: headers, host: host,
            signedHeaders: signedHeaders, payloadHash: payload.hash
        )
        let toSign = Self.stringToSign(timestamp: stamp, scope: scope, canonicalRequest: canonical)
        let signature = signature(of: toSign, date: stamp)
        query.append(("X-Amz-Signature", signature))
        return AWSSignedRequest(
            url: Self.wireURL(endpoint: endpoint, path: fullPath, query: query),
            headers: headers,
            canonicalRequest: canonical,
            stringToSign: toSign,
            signature: signature
        )
    }

    /// `<yyyymmdd>/<region>/<service>/aws4_request`.
    func credentialScope(date stamp: String) -> String {
        "\(stamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// The hex signature of a string to sign, with the key derived for the date's day.
    func signature(of stringToSign: String, date stamp: String) -> String {
        var key = HMACSHA256.authenticationCode(
            for: Array(stamp.prefix(8).utf8), key: Array("AWS4\(credentials.secretAccessKey)".utf8)
        ).bytes
        for part in [region, service, "aws4_request"] {
            key = HMACSHA256.authenticationCode(for: Array(part.utf8), key: key).bytes
        }
        return HMACSHA256.authenticationCode(for: Array(stringToSign.utf8), key: key).hexString
    }
}
