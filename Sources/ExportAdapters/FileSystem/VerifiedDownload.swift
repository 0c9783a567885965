import ExportCore
import Foundation

/// What a verified download link allows: one blob, under one file name, until its expiry.
public struct VerifiedDownload: Hashable, Sendable {
    /// The blob to serve.
    public var key: BlobKey
    /// The file name to put in `Content-Disposition`.
    public var filename: String
    /// When the link expires.
    public var expiresAt: Date

    /// Creates a verified download.
    ///
    /// - Parameters:
    ///   - key: The blob to serve.
    ///   - filename: The file name to suggest.
    ///   - expiresAt: When the link expires.
    public init(key: BlobKey, filename: String, expiresAt: Date) {
        self.key = key
        self.filename = filename
        self.expiresAt = expiresAt
    }
}
