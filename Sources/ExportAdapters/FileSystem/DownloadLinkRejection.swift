import ExportCore
import Foundation

/// Why ``DownloadLinkSigner`` refused a download link. A route answers `.expired` with 410 Gone and the
/// others with 403 Forbidden (or 404, to reveal nothing).
public enum DownloadLinkRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// A part is missing or invalid; the reason says which.
    case malformed(String)
    /// The signature does not match: the link was altered or made with another secret.
    case badSignature
    /// The link was genuine but expired at the given moment.
    case expired(at: Date)

    /// A sentence for a log.
    public var description: String {
        switch self {
        case .malformed(let reason): "malformed download link: \(reason)"
        case .badSignature: "download link signature does not match"
        case .expired(let date): "download link expired at \(date)"
        }
    }

    /// The rejection as the library's error type: `ExportError.Code.unauthorized` for a bad or expired
    /// link, `ExportError.Code.invalidRequest` for a malformed one; never retryable.
    public var exportError: ExportError {
        switch self {
        case .malformed: ExportError(.invalidRequest, description, cause: self, isRetryable: false)
        case .badSignature, .expired: ExportError(.unauthorized, description, cause: self, isRetryable: false)
        }
    }
}
