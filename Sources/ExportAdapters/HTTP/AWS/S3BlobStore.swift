import ExportCore
import Foundation

/// A `BlobStore` on Amazon S3 or an S3-compatible service (MinIO, moto, LocalStack).
///
/// Writes are multipart uploads started lazily: a blob smaller than one part is a single `PutObject`,
/// a larger one uploads `partSize` parts with at most `partsInFlight` in flight, so memory stays below
/// `partSize × (partsInFlight + 1)` (plus the HTTP layer's copy of each part being sent) whatever the
/// size. A failed write aborts its upload, and ``abortIncompleteWrites(startedBefore:)`` aborts this
/// store's unfinished writes and the uploads left by dead processes (also configure a
/// bucket lifecycle rule `AbortIncompleteMultipartUpload` as a second net). Reads are ranged GETs
/// pinned to the object's ETag, so a reader never mixes two versions. Download links are presigned
/// GETs (at most 7 days) that ask the browser to save the file under the given name.
public struct S3BlobStore: BlobStore {
    /// The store's configuration.
    public let configuration: Configuration
    let client: AWSServiceClient
    let registry = S3WriteRegistry()

    /// Creates a store.
    ///
    /// - Parameters:
    ///   - configuration: Bucket, prefix, part size and encryption.
    ///   - aws: Credentials, region and endpoint.
    ///   - transport: The HTTP transport; an ``HTTP1Transport`` by default (`https://` through URLSession).
    ///   - clock: The clock used for signing and link expiry.
    /// - Throws: `ExportError.Code.configuration` for an invalid configuration.
    public init(
        configuration: Configuration,
        aws: AWSConfiguration,
        transport: any HTTPTransport = HTTP1Transport(),
        clock: any ExportClock = SystemClock()
    ) throws(ExportError) {
        try configuration.validate()
        self.configuration = configuration
        self.client = AWSServiceClient(configuration: aws, service: "s3", hostPrefix: "s3", transport: transport, clock: clock)
    }

    /// Creates the bucket (for tests and development); succeeds when it already exists and is yours.
    ///
    /// - Throws: `ExportError` when S3 refuses.
    public func createBucket() async throws {
        var body: [UInt8] = []
        if client.configuration.region != "us-east-1" {
            body = Array(("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(client.configuration.region)</LocationConstraint></CreateBucketConfiguration>").utf8)
        }
        let (endpoint, path) = location(nil)
        let response = try await client.send(
            method: "PUT", endpoint: endpoint, path: path, headers: [("Content-Type", "application/xml")], body: body,
            contentHashHeader: true
        )
        if response.isSuccess { return }
        let error = client.xmlError(response, operation: "CreateBucket")
        if error.code == .alreadyExists, response.bodyText.contains("BucketAlreadyOwnedByYou") { return }
        throw error
    }

    /// Starts a write; nothing is sent until the first part is full or the writer finishes.
    ///
    /// - Parameters:
    ///   - key: Where the blob will be stored.
    ///   - contentType: Its MIME type.
    /// - Returns: The writer.
    /// - Throws: Never in practice; failures surface from the writer.
    public func beginWrite(key: BlobKey, contentType: String) async throws -> any BlobWriter {
        let writer = S3BlobWriter(store: self, key: key, contentType: contentType)
        registry.register(writer.id, startedAt: client.clock.now(), writer: writer)
        return writer
    }

    /// Reads a blob in ranged GETs of ``Configuration/readChunkSize`` bytes, pinned to its ETag.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Returns: The chunks, fetched as the consumer asks for them.
    /// - Throws: `ExportError.Code.notFound` when there is no such blob.
    public func read(_ key: BlobKey) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        guard let head = try await head(key) else {
            throw ExportError(.notFound, "No blob at \(key)")
        }
        let reader = S3RangeReader(store: self, key: key, size: head.metadata.size, etag: head.etag)
        return AsyncThrowingStream(unfolding: { try await reader.next() })
    }

    /// Describes a blob with a HEAD request.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Returns: Its metadata, or `nil` when absent.
    /// - Throws: `ExportError` when S3 fails.
    public func metadata(_ key: BlobKey) async throws -> BlobMetadata? {
        try await head(key)?.metadata
    }

    /// Deletes a blob; a missing one is fine.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Throws: `ExportError` when S3 fails.
    public func delete(_ key: BlobKey) async throws {
        let (endpoint, path) = location(key)
        let response = try await client.send(method: "DELETE", endpoint: endpoint, path: path, contentHashHeader: true)
        if response.isSuccess { return }
        let error = client.xmlError(response, operation: "DeleteObject")
        if error.code == .notFound, !response.bodyText.contains("NoSuchBucket") { return }
        throw error
    }

    /// Seven days, the longest a SigV4 presigned URL lasts.
    public var maximumLinkLifetime: Duration? { Configuration.maximumLinkLifetime }

    /// Presigns a GET that downloads the blob as `filename`.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    ///   - filename: The name the browser saves it as (unsafe characters are replaced).
    ///   - expiresIn: The lifetime, 1 second to 7 days.
    /// - Returns: The link and its expiry.
    /// - Throws: `ExportError.Code.invalidRequest` for a lifetime outside S3's limits.
    ///   The credential provider's error when it has no credentials.
    public func downloadLink(for key: BlobKey, filename: String, expiresIn: Duration) async throws -> DownloadLink {
        let seconds = Int(DurationSeconds.of(expiresIn).rounded(.up))
        guard seconds >= 1, expiresIn <= Configuration.maximumLinkLifetime else {
            throw ExportError(.invalidRequest, "S3 download links last from 1 second to 7 days, not \(expiresIn)")
        }
        let safeName = String(filename.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        let now = client.clock.now()
        let (endpoint, path) = location(key)
        let signed = try await client.signer().presign(
            method: "GET", endpoint: endpoint, path: path,
            query: [("response-content-disposition", "attachment; filename=\"\(safeName)\"")],
            expires: seconds, date: now
        )
        return DownloadLink(url: signed.url, expiresAt: now.addingTimeInterval(TimeInterval(seconds)))
    }

    /// Aborts writes that have not been written since before `date`: this store's own unfinished
    /// writers started before it (by their start time, even before their first part), then multipart
    /// uploads under the prefix that no live writer of this store holds, that S3 reports as initiated
    /// before `date` and whose newest part (by ListParts' `LastModified`) is older than `date` too:
    /// those of other, dead processes and of suspended writes.
    ///
    /// A suspended (checkpointed) upload is therefore not aborted for being suspended, nor for having
    /// started long ago: it is kept, for a resume, until it has not been written for as long as
    /// `date` says, like the partial blob of any other store. An upload with a part whose time S3
    /// does not report readably is kept (the bucket's lifecycle rule removes it in the end).
    ///
    /// - Parameters:
    ///   - date: Only writes started, and last written, before this moment are aborted.
    /// - Returns: How many were aborted.
    /// - Throws: `ExportError` when S3 fails.
    @discardableResult
    public func abortIncompleteWrites(startedBefore date: Date) async throws -> Int {
        var aborted = 0
        var handled: Set<String> = []
        for local in registry.takeStarted(before: date) {
            try await local.writer.abortForSweep()
            if let uploadID = local.uploadID { handled.insert(uploadID) }
            aborted += 1
        }
        handled.formUnion(registry.liveUploadIDs)
        try await forEachUpload { upload in
            guard !handled.contains(upload.uploadID), let initiated = upload.initiated, initiated < date,
                  let parts = try await listParts(objectKey: upload.objectKey, uploadID: upload.uploadID)?.parts,  // nil: gone meanwhile
                  parts.allSatisfy({ ($0.lastModified ?? .distantFuture) < date })
            else { return true }
            try await abortUpload(objectKey: upload.objectKey, uploadID: upload.uploadID)
            aborted += 1
            return true
        }
        return aborted
    }

    // MARK: - Internals shared with the writer and the reader

    /// The endpoint and decoded path of an object (or of the bucket for `nil`).
    func location(_ key: BlobKey?) -> (URL, String) {
        location(objectKey: key.map { configuration.keyPrefix + $0.rawValue })
    }

    func location(objectKey: String?) -> (URL, String) {
        let base = client.endpoint
        let keyPath = objectKey.map { "/" + $0 } ?? "/"
        if client.configuration.s3PathStyle {
            return (base, "/\(configuration.bucket)" + (objectKey.map { "/" + $0 } ?? ""))
        }
        var components = URLComponents(url: base, resolvingAgainstBaseURL: false)
        components?.host = "\(configuration.bucket).\(base.host ?? "")"
        return (components?.url ?? base, keyPath)
    }

    /// Runs one S3 call, retrying it in place up to ``retryAttempts`` times with a short exponential
    /// backoff (real time: network back-pressure, as in the SDKs' standard mode) while it fails with a
    /// retryable error, so one 503 SlowDown does not throw away a large upload.
    func retrying<T: Sendable>(_ call: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await call()
            } catch let error as ExportError where attempt < Self.retryAttempts && error.isRetryable && error.code != .cancelled {
                try await Task.sleep(for: .milliseconds(100 << attempt))
                attempt += 1
            }
        }
    }

    /// How many times an S3 call is tried before its error reaches the caller.
    static let retryAttempts = 3

    func head(_ key: BlobKey) async throws -> (metadata: BlobMetadata, etag: String?)? {
        let (endpoint, path) = location(key)
        let response = try await retrying {
            let response = try await client.send(method: "HEAD", endpoint: endpoint, path: path, contentHashHeader: true)
            if response.status >= 500 || response.status == 429 {
                throw HTTPErrorMapping.error(status: response.status, serviceCode: nil, message: nil, operation: "HeadObject")
            }
            return response
        }
        if response.status == 404 { return nil }
        guard response.isSuccess else {
            throw HTTPErrorMapping.error(status: response.status, serviceCode: nil, message: nil, operation: "HeadObject")
        }
        let size = response.header("content-length").flatMap { Int64($0) } ?? 0
        let metadata = BlobMetadata(key: key, size: size, contentType: response.header("content-type") ?? "application/octet-stream")
        return (metadata, response.header("etag"))
    }

    func abortUpload(objectKey: String, uploadID: String) async throws {
        let (endpoint, path) = location(objectKey: objectKey)
        let response = try await client.send(
            method: "DELETE", endpoint: endpoint, path: path, query: [("uploadId", uploadID)], contentHashHeader: true
        )
        if response.isSuccess || response.status == 404 { return }
        throw client.xmlError(response, operation: "AbortMultipartUpload")
    }

    /// Headers that ask for server-side encryption, when configured.
    var encryptionHeaders: [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        if let sse = configuration.serverSideEncryption { headers.append(("x-amz-server-side-encryption", sse)) }
        if let key = configuration.kmsKeyID { headers.append(("x-amz-server-side-encryption-aws-kms-key-id", key)) }
        return headers
    }

    /// Parses an S3 timestamp such as `2026-01-01T00:00:00.000Z` (RFC 3339, see `RFC3339`); `nil`
    /// when it is not one.
    static func parseDate(_ text: String) -> Date? {
        try? RFC3339.parse(text)  // the caller skips an upload whose time it cannot read; nothing is lost
    }
}

/// Seconds in a `Duration`, as a `TimeInterval`.
enum DurationSeconds {
    static func of(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
