import ExportCore
import Foundation

/// One S3 write: a single PutObject for small blobs, a multipart upload for the rest.
///
/// A write that made a checkpoint (``checkpoint()`` returned a point) or continues one
/// (``S3BlobStore/resumeWrite(key:contentType:from:)``) is *resumable*: when it fails, or is suspended,
/// it stops without aborting its upload, so a later attempt can continue from the checkpoint's parts.
actor S3BlobWriter: BlobWriter {
    private enum State { case open, finished, aborted, suspended }

    nonisolated let id = UUID()
    private let store: S3BlobStore
    private let key: BlobKey
    private let objectKey: String
    private let contentType: String
    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var nextPartNumber = 1
    private var inFlight: [(number: Int, task: Task<S3CompletedPart, any Error>)] = []
    private var completed: [S3CompletedPart] = []
    /// The checksum sent with the object or each part: the configuration's for a new write, the one
    /// the upload's parts carry for a resumed write.
    private let checksumAlgorithm: S3BlobStore.Configuration.ChecksumAlgorithm?
    private var size: Int64 = 0
    private var state = State.open
    /// Whether the upload is kept when the write fails or is suspended: a checkpoint covers some of it.
    private var resumable = false

    init(store: S3BlobStore, key: BlobKey, contentType: String) {
        self.store = store
        self.key = key
        self.objectKey = store.configuration.keyPrefix + key.rawValue
        self.contentType = contentType
        self.checksumAlgorithm = store.configuration.checksumAlgorithm
    }

    /// A writer that continues a checkpointed upload after its first `parts`, which hold `size` bytes.
    ///
    /// - Parameters:
    ///   - store: The store.
    ///   - key: The key the upload finishes under.
    ///   - contentType: Its MIME type (the upload keeps the one it was created with).
    ///   - uploadID: The multipart upload.
    ///   - parts: Its parts 1…k, in order, that the checkpoint covers.
    ///   - size: Their bytes.
    ///   - checksumAlgorithm: The checksum its parts carry, which the parts still to come carry too.
    init(
        store: S3BlobStore, key: BlobKey, contentType: String, uploadID: String, parts: [S3CompletedPart], size: Int64,
        checksumAlgorithm: S3BlobStore.Configuration.ChecksumAlgorithm?
    ) {
        self.store = store
        self.key = key
        self.objectKey = store.configuration.keyPrefix + key.rawValue
        self.contentType = contentType
        self.uploadID = uploadID
        self.completed = parts
        self.nextPartNumber = parts.count + 1
        self.size = size
        self.resumable = true
        self.checksumAlgorithm = checksumAlgorithm
    }

    /// Buffers `bytes` and uploads each part as it fills. A full buffer *is* the part (handed over,
    /// not copied); once a multipart upload is under way each new buffer is allocated at the part
    /// size, so it never grows by copying either.
    func append(_ bytes: [UInt8]) async throws {
        try checkOpen()
        size += Int64(bytes.count)
        let partSize = store.configuration.partSize
        do {
            var offset = 0
            while offset < bytes.count {
                if buffer.isEmpty, uploadID != nil { buffer.reserveCapacity(partSize) }
                let end = min(bytes.count, offset + partSize - buffer.count)
                buffer.append(contentsOf: bytes[offset..<end])
                offset = end
                if buffer.count == partSize {
                    let part = buffer
                    buffer = []
                    try await upload(part)
                }
            }
        } catch {
            await stopAfterFailure()
            throw error
        }
    }

    func finish() async throws -> BlobMetadata {
        try checkOpen()
        do {
            if uploadID == nil {
                try await putObject()
            } else {
                if !buffer.isEmpty {
                    let last = buffer
                    buffer = []
                    try await upload(last)
                }
                try await drain(keeping: 0)
                try await complete()
            }
        } catch {
            await stopAfterFailure()
            throw error
        }
        state = .finished
        buffer = []
        store.registry.remove(id)
        return BlobMetadata(key: key, size: size, contentType: contentType)
    }

    /// Aborts the upload, also a suspended one (whose checkpoint is then gone). Idempotent.
    ///
    /// - Throws: `ExportError` when S3 could not abort it (the sweep finds it later).
    func abort() async throws {
        guard state == .open || state == .suspended else { return }
        store.registry.remove(id)
        try await abortUpload()
    }

    /// Makes every byte appended so far a completed part of a multipart upload (starting one if
    /// needed) and returns the upload id and their size.
    ///
    /// The buffered bytes (less than a part) are uploaded as a part of their own when they reach S3's
    /// minimum part size (``S3BlobStore/Configuration/minimumPartSize``): every part but the last must,
    /// and the part after a checkpoint is never the last. Below it they cannot be made durable, so
    /// there is no point; nor for an empty write. With the default 8 MiB parts, a checkpoint made at a
    /// random place therefore succeeds about 3 times in 8 (and always when the bytes between
    /// checkpoints are 5 MiB or more and less than a part). Memory stays bounded: the buffer holds less
    /// than a part.
    ///
    /// - Returns: The point, or `nil` when the buffered bytes are too few to upload or nothing was
    ///   written.
    /// - Throws: `ExportError` when a part fails; the write then stops (kept for a resume when an
    ///   earlier checkpoint covers some of it, aborted otherwise).
    func checkpoint() async throws -> BlobResumePoint? {
        try checkOpen()
        guard size > 0, buffer.isEmpty || buffer.count >= S3BlobStore.Configuration.minimumPartSize else { return nil }
        do {
            if !buffer.isEmpty {
                let part = buffer
                buffer = []
                try await upload(part)
            }
            let uploadID = try await startedUploadID()
            try await drain(keeping: 0)
            resumable = true
            return BlobResumePoint(token: uploadID, size: size)
        } catch {
            await stopAfterFailure()
            throw error
        }
    }

    /// Stops writing and keeps the upload for ``S3BlobStore/resumeWrite(key:contentType:from:)`` when a
    /// checkpoint covers some of it; aborts it otherwise. Parts in flight are cancelled: they lie past
    /// the checkpoint, so a resumed write does not list them. Idempotent.
    ///
    /// - Throws: `ExportError` when a write without a checkpoint could not be aborted.
    func suspend() async throws {
        guard state == .open else { return }
        guard resumable else { return try await abort() }
        // Out of the registry: a suspended upload is nobody's live write, so a resume may take it and
        // this process's sweep does not abort it for having started long ago.
        store.registry.remove(id)
        state = .suspended
        await stopParts()
    }

    /// Aborts on behalf of ``S3BlobStore/abortIncompleteWrites(startedBefore:)``.
    func abortForSweep() async throws {
        guard state == .open else { return }
        try await abortUpload()
    }

    private func abortUpload() async throws {
        state = .aborted
        await stopParts()
        guard let uploadID else { return }
        // A write is often aborted because its task was cancelled, and URLSession will not start a
        // request in a cancelled task: run the abort in an unstructured task, which does not inherit
        // the cancellation, and wait for it, so the upload's parts do not stay behind (and billed).
        let store = self.store
        let objectKey = self.objectKey
        try await Task { try await store.abortUpload(objectKey: objectKey, uploadID: uploadID) }.value
    }

    /// Drops the buffer and cancels and awaits the parts in flight (their results no longer matter).
    private func stopParts() async {
        buffer = []
        for part in inFlight { part.task.cancel() }
        for part in inFlight { _ = try? await part.task.value }  // cancelled: awaited only so none outlives the writer
        inFlight = []
    }

    private func checkOpen() throws {
        guard state == .open else {
            throw ExportError(.invalidRequest, "The write of \(key) is already \(state)")
        }
    }

    /// After a failed call: suspends a resumable write (its checkpoint's parts stay for the next
    /// attempt), aborts any other. Errors are not thrown: the caller throws the failure itself, and an
    /// upload that could not be aborted is found by the sweep.
    private func stopAfterFailure() async {
        try? await suspend()
    }

    private func putObject() async throws {
        let (endpoint, path) = store.location(key)
        let response = try await store.client.send(
            method: "PUT", endpoint: endpoint, path: path,
            headers: [("Content-Type", contentType)] + store.encryptionHeaders + S3Checksum.headers(checksumAlgorithm, of: buffer),
            body: buffer, contentHashHeader: true
        )
        guard response.isSuccess else { throw store.client.xmlError(response, operation: "PutObject") }
    }

    private func upload(_ part: [UInt8]) async throws {
        let uploadID = try await startedUploadID()
        try await drain(keeping: store.configuration.partsInFlight - 1)
        let number = nextPartNumber
        nextPartNumber += 1
        let store = self.store
        let objectKey = self.objectKey
        let algorithm = checksumAlgorithm
        let task = Task<S3CompletedPart, any Error> {
            let (endpoint, path) = store.location(objectKey: objectKey)
            // Computed here, beside the upload, rather than on the appending task.
            let checksum = S3Checksum.headers(algorithm, of: part)
            return try await store.retrying {
                let response = try await store.client.send(
                    method: "PUT", endpoint: endpoint, path: path,
                    query: [("partNumber", String(number)), ("uploadId", uploadID)],
                    headers: [("Content-Type", "application/octet-stream")] + checksum, body: part,
                    payload: store.configuration.unsignedPartPayloads ? .unsigned : nil, contentHashHeader: true
                )
                guard response.isSuccess else { throw store.client.xmlError(response, operation: "UploadPart") }
                guard let etag = response.header("etag") else {
                    throw ExportError(.io, "UploadPart of part \(number) returned no ETag", isRetryable: true)
                }
                return S3CompletedPart(number: number, etag: etag, checksumCRC32: checksum.first?.value)
            }
        }
        inFlight.append((number, task))
    }

    /// Waits for the oldest uploads until at most `limit` are in flight.
    private func drain(keeping limit: Int) async throws {
        while inFlight.count > max(0, limit) {
            let oldest = inFlight.removeFirst()
            completed.append(try await oldest.task.value)
        }
    }

    private func startedUploadID() async throws -> String {
        if let uploadID { return uploadID }
        let (endpoint, path) = store.location(key)
        let response = try await store.client.send(
            method: "POST", endpoint: endpoint, path: path, query: [("uploads", "")],
            headers: [("Content-Type", contentType)] + store.encryptionHeaders
                + (checksumAlgorithm.map { [("x-amz-checksum-algorithm", $0.rawValue)] } ?? []),
            contentHashHeader: true
        )
        guard response.isSuccess else { throw store.client.xmlError(response, operation: "CreateMultipartUpload") }
        guard let id = XMLNode.parse(response.body)?.first("UploadId")?.text, !id.isEmpty else {
            throw ExportError(.corruptData, "CreateMultipartUpload answered without an UploadId", isRetryable: true)
        }
        uploadID = id
        store.registry.setUpload(self.id, uploadID: id)
        return id
    }

    private func complete() async throws {
        guard let uploadID else { return }
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in completed.sorted(by: { $0.number < $1.number }) {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(Self.escape(part.etag))</ETag>"
            if let checksum = part.checksumCRC32 { xml += "<ChecksumCRC32>\(Self.escape(checksum))</ChecksumCRC32>" }
            xml += "</Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let (endpoint, path) = store.location(key)
        let store = self.store
        var attempts = 0
        // `true` when a retry heard NoSuchUpload: an earlier attempt may have completed the upload
        // and only its answer was lost (S3 forgets an upload once it is completed).
        let answerLost = try await store.retrying {
            attempts += 1
            let response = try await store.client.send(
                method: "POST", endpoint: endpoint, path: path, query: [("uploadId", uploadID)],
                headers: [("Content-Type", "application/xml")], body: Array(xml.utf8), contentHashHeader: true
            )
            // S3 may answer 200 and put the error in the body.
            let document = XMLNode.parse(response.body)
            guard response.isSuccess, document?.name != "Error" else {
                let code = (document?.first("Error") ?? document)?.first("Code")?.text
                if attempts > 1, code == "NoSuchUpload" { return true }
                throw store.client.xmlError(response, operation: "CompleteMultipartUpload")
            }
            return false
        }
        if answerLost { try await checkCompletedObject() }
    }

    /// Accepts a retried Complete's `NoSuchUpload` when the object is there with this write's size
    /// (and, when S3 reports it, a multipart ETag over this write's part count): the earlier attempt
    /// completed the upload and only its answer was lost.
    ///
    /// - Throws: A retryable `ExportError` when the object is missing or is not this write's (the
    ///   upload was aborted by someone else), so the job runs again and writes it anew.
    private func checkCompletedObject() async throws {
        let reason: String
        if let found = try await store.head(key) {
            let etag = found.etag?.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            let partsMatch = etag.map { $0.hasSuffix("-\(completed.count)") } ?? true
            if found.metadata.size == size, partsMatch { return }
            reason = "the object there has \(found.metadata.size) bytes and ETag \(etag ?? "none"), "
                + "not this write's \(size) bytes in \(completed.count) parts"
        } else {
            reason = "there is no object"
        }
        throw ExportError(
            .transient, "CompleteMultipartUpload of \(key) was retried and S3 no longer knows the upload, but \(reason)",
            isRetryable: true
        )
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// A part S3 accepted: its number, its ETag and, when it was sent with one, its CRC-32 checksum, as
/// CompleteMultipartUpload wants them back.
struct S3CompletedPart: Sendable, Equatable {
    var number: Int
    var etag: String
    var checksumCRC32: String?
}
