import Foundation

/// Checks a signed download link served by the host itself (such as a file-system blob store's links)
/// and says which blob it grants.
///
/// The HTTP API's download route hands every request under its download path to a resolver, then
/// streams the granted blob with ``BlobStore/read(_:)``. A blob store that mints links to the host's own
/// server (rather than to S3) conforms to this protocol with the verifier of its link format.
///
/// ## Implementation requirements
/// - **Constant-time comparison** of signatures (``HMACSHA256/constantTimeEquals(_:_:)``).
/// - **Altered links are rejected**: any change to the key, the expiry or the file name yields
///   ``SignedDownloadVerdict/badSignature``, as does a link that cannot be parsed at all.
/// - **Expiry** is checked on the resolver's own clock, and only after the signature holds, so an
///   expired verdict never confirms anything about a forged link.
/// - **No I/O is needed**; the resolver does not check that the blob still exists (the caller does).
public protocol SignedDownloadResolver: Sendable {
    /// Verifies a signed link.
    ///
    /// - Parameters:
    ///   - path: The request path after the download route's prefix, starting with `/`, or empty;
    ///     not percent-decoded.
    ///   - query: The request's query items, percent-decoded.
    /// - Returns: The blob and file name the link grants, or why it grants nothing.
    /// - Throws: ``ExportError`` only when verification itself fails (not for a bad or expired link).
    func verify(path: String, query: [URLQueryItem]) async throws -> SignedDownloadVerdict

    /// The percent-encoded path of the URL every link starts with (such as `/api/v1/downloads`), or
    /// `nil` when the resolver cannot say. The HTTP API checks it against the route it mounts, so links
    /// that no route would serve are a start-up error rather than a 404 in every e-mail.
    var linkBasePath: String? { get }
}

extension SignedDownloadResolver {
    /// Unknown, unless the resolver says.
    public var linkBasePath: String? { nil }
}
