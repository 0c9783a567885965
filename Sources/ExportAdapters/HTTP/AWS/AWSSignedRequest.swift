import Foundation

/// The result of signing: the URL and headers to send, and the intermediate strings for debugging.
public struct AWSSignedRequest: Sendable {
    /// The URL to request, with the encoded path and query (and, when presigned, the signature).
    public var url: URL
    /// The headers to send, including the signing headers.
    public var headers: [(name: String, value: String)]
    /// The canonical request that was hashed.
    public var canonicalRequest: String
    /// The string that was signed.
    public var stringToSign: String
    /// The hex signature.
    public var signature: String

    /// Creates a signed request.
    ///
    /// - Parameters:
    ///   - url: The URL to request.
    ///   - headers: The headers to send.
    ///   - canonicalRequest: The canonical request.
    ///   - stringToSign: The string to sign.
    ///   - signature: The signature.
    public init(
        url: URL,
        headers: [(name: String, value: String)],
        canonicalRequest: String,
        stringToSign: String,
        signature: String
    ) {
        self.url = url
        self.headers = headers
        self.canonicalRequest = canonicalRequest
        self.stringToSign = stringToSign
        self.signature = signature
    }
}
