import ExportCore
import Foundation

/// One S3 write: a single PutObject for small blobs, a multipart upload for the rest.
actor S3BlobWriter: BlobWriter {
    private enum State { case open, finished, aborted }

    nonisolated let id = UUID()
    private let store: S3BlobStore
    private let key: BlobKey
    private let objectKey: String
    private let contentType: String
    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var nextPartNumber = 1
    private var inFlight: [(number: Int, task: Task<String, any Error>)] = []
    private var completed: [(number: Int, etag: String)] = []
    private var size: Int64 = 0
    private var state = State.open

    init(store: S3BlobStore, key: BlobKey, contentType: String) {
        self.store = store
        self.key = key
        self.objectKey = store.configuration.keyPrefix + key.rawValue
        self.contentType = contentType
    }

    func append(_ bytes: [UInt8]) async throws {
        try checkOpen()
        buffer += bytes
        size += Int64(bytes.count)
        let partSize = store.configuration.partSize
        do {
            while buffer.count >= partSize {
                let part = Array(buffer[..<partSize])
                buffer.removeFirst(partSize)
                try await upload(part)
            }
        } catch {
            await abortQuietly()
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
            await abortQuietly()
            throw error
        }
        state = .finished
        buffer = []
        store.registry.remove(id)
        return BlobMetadata(key: key, size: size, contentType: contentType)
    }

    func abort() async throws {
        guard state == .open else { return }
        store.registry.remove(id)
        try await abortForSweep()
    }

    /// Aborts on behalf of ``S3BlobStore/abortIncompleteWrites(startedBefore:)``.
    func abortForSweep() async throws {
        guard state == .open else { return }
        state = .aborted
        buffer = []
        for part in inFlight { part.task.cancel() }
        for part in inFlight { _ = try? await part.task.value }
        inFlight = []
        guard let uploadID else { return }
        // A write is often aborted because its task was cancelled, and URLSession will not start a
        // request in a cancelled task: run the abort in an unstructured task, which does not inherit
        // the cancellation, and wait for it, so the upload's parts do not stay behind (and billed).
        let store = self.store
        let objectKey = self.objectKey
        try await Task { try await store.abortUpload(objectKey: objectKey, uploadID: uploadID) }.value
    }

    private func checkOpen() throws {
        guard state == .open else {
            throw ExportError(.invalidRequest, "The write of \(key) is already \(state == .finished ? "finished" : "aborted")")
        }
    }

    private func abortQuietly() async {
        try? await abort()
    }

    private func putObject() async throws {
        let (endpoint, path) = store.location(key)
        let response = try await store.client.send(
            method: "PUT", endpoint: endpoint, path: path,
            headers: [("Content-Type", contentType)] + store.encryptionHeaders, body: buffer, contentHashHeader: true
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
        let task = Task<String, any Error> {
            let (endpoint, path) = store.location(objectKey: objectKey)
            return try await store.retrying {
                let response = try await store.client.send(
                    method: "PUT", endpoint: endpoint, path: path,
                    query: [("partNumber", String(number)), ("uploadId", uploadID)],
                    headers: [("Content-Type", "application/octet-stream")], body: part,
                    payload: store.configuration.unsignedPartPayloads ? .unsigned : nil, contentHashHeader: true
                )
                guard response.isSuccess else { throw store.client.xmlError(response, operation: "UploadPart") }
                guard let etag = response.header("etag") else {
                    throw ExportError(.io, "UploadPart of part \(number) returned no ETag", isRetryable: true)
                }
                return etag
            }
        }
        inFlight.append((number, task))
    }

    /// Waits for the oldest uploads until at most `limit` are in flight.
    private func drain(keeping limit: Int) async throws {
        while inFlight.count > max(0, limit) {
            let oldest = inFlight.removeFirst()
            completed.append((oldest.number, try await oldest.task.value))
        }
    }

    private func startedUploadID() async throws -> String {
        if let uploadID { return uploadID }
        let (endpoint, path) = store.location(key)
        let response = try await store.client.send(
            method: "POST", endpoint: endpoint, path: path, query: [("uploads", "")],
            headers: [("Content-Type", contentType)] + store.encryptionHeaders, contentHashHeader: true
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
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(Self.escape(part.etag))</ETag></Part>"
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
