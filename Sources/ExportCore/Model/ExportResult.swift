import Foundation

/// What a successful export produced.
public struct ExportResult: Hashable, Sendable, Codable {
    /// The blob store key of the file.
    public var blobKey: BlobKey
    /// The number of data rows (header excluded).
    public var rows: Int64
    /// The size of the stored file in bytes.
    public var bytes: Int64
    /// The SHA-256 of the stored file, lower-case hex.
    public var sha256: String
    /// The file's format.
    public var format: ExportFormat
    /// When the download link in the e-mail stops working.
    public var linkExpiresAt: Date

    /// Creates a result.
    ///
    /// - Parameters:
    ///   - blobKey: The blob store key of the file.
    ///   - rows: The number of data rows.
    ///   - bytes: The size of the file.
    ///   - sha256: The SHA-256 of the file, lower-case hex.
    ///   - format: The file's format.
    ///   - linkExpiresAt: When the e-mailed link expires.
    public init(blobKey: BlobKey, rows: Int64, bytes: Int64, sha256: String, format: ExportFormat, linkExpiresAt: Date) {
        self.blobKey = blobKey
        self.rows = rows
        self.bytes = bytes
        self.sha256 = sha256
        self.format = format
        self.linkExpiresAt = linkExpiresAt
    }
}

/// Why an export failed, in words a person can read.
public struct ExportFailure: Hashable, Sendable, Codable {
    /// The ``ExportError/Code`` name of the last error, such as `unavailable`.
    public var code: String
    /// What went wrong.
    public var reason: String

    /// Creates a failure description.
    ///
    /// - Parameters:
    ///   - code: The error code's name.
    ///   - reason: What went wrong.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }
}
