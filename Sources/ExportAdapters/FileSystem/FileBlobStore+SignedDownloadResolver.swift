import ExportCore
import Foundation

extension FileBlobStore: SignedDownloadResolver {
    /// The percent-encoded path of ``Configuration/linkBaseURL``, without a trailing slash.
    public var linkBasePath: String? {
        var path = Substring(URLComponents(url: configuration.linkBaseURL, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? "")
        while path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }

    /// Verifies one of this store's download links for the HTTP API's signed-download route.
    ///
    /// Configure the store's ``Configuration/linkBaseURL`` as the public URL of that route (for example
    /// `https://exports.example.com/downloads` with the handler's download path `/downloads`).
    ///
    /// - Parameters:
    ///   - path: The request path after the route's prefix: `/` and the link's one segment, the key's
    ///     base64url token (``DownloadLinkSigner/token(for:)``); anything else is a bad link.
    ///   - query: The query items (`expires`, `filename`, `signature`), percent-decoded.
    /// - Returns: `.valid` with the key and file name, `.badSignature` for an altered, foreign or
    ///   unparsable link, `.expired` for a genuine link whose time is up (on the store's clock).
    /// - Throws: Never; verification needs no I/O.
    public func verify(path: String, query: [URLQueryItem]) async throws -> SignedDownloadVerdict {
        var parameters: [String: String] = [:]
        for item in query {
            guard parameters[item.name] == nil else { return .badSignature }
            parameters[item.name] = item.value ?? ""
        }
        guard path.hasPrefix("/") else { return .badSignature }
        let token = path.dropFirst()
        guard !token.contains("/") else { return .badSignature }
        do {
            let verified = try signer.verify(token: String(token), query: parameters, now: clock.now())
            return .valid(key: verified.key, filename: verified.filename)
        } catch .expired {
            return .expired
        } catch {
            return .badSignature
        }
    }
}
