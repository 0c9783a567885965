import ExportAdapters
@testable import ExportAWS
@testable import ExportFileSystem
@testable import ExportInMemory
import ExportCore
import Foundation
import Synchronization
import Testing

/// Failures in the middle of an S3 write: what the writer leaves behind, against moto.
@Suite("S3 writer faults against moto", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct S3BlobWriterFaultTests {
    static let part = [UInt8](repeating: 7, count: S3BlobStore.Configuration.minimumPartSize)

    static func makeStore(_ peer: PeerProcess, transport: any HTTPTransport) async throws -> S3BlobStore {
        let store = try S3BlobStore(
            configuration: .init(
                bucket: MotoServer.uniqueName("faults"), partSize: S3BlobStore.Configuration.minimumPartSize,
                partsInFlight: 1, unsignedPartPayloads: true
            ),
            aws: MotoServer.configuration(peer), transport: transport
        )
        try await store.createBucket()
        return store
    }

    /// The multipart uploads S3 still holds in the store's bucket (`ListMultipartUploads`).
    static func openUploads(_ peer: PeerProcess, bucket: String) async throws -> Int {
        let store = try S3BlobStore(configuration: .init(bucket: bucket), aws: MotoServer.configuration(peer))
        let (endpoint, path) = store.location(nil)
        let response = try await store.client.send(method: "GET", endpoint: endpoint, path: path, query: [("uploads", "")], contentHashHeader: true)
        guard response.isSuccess, let document = XMLNode.parse(response.body) else {
            throw store.client.xmlError(response, operation: "ListMultipartUploads")
        }
        return document.children("Upload").count
    }

    @Test("A write cancelled mid-upload still aborts its multipart upload")
    func cancelledWrite() async throws {
        let peer = try await MotoServer.peer()
        let store = try await Self.makeStore(peer, transport: URLSessionTransport())
        let write = Task {
            let writer = try await store.beginWrite(key: try BlobKey(validating: "cancelled.bin"), contentType: "application/octet-stream")
            try await writer.append(Self.part)
            try await writer.append(Self.part)
            // Cancelled now: finish's CompleteMultipartUpload is refused, and the writer aborts.
            withUnsafeCurrentTask { $0?.cancel() }
            _ = try await writer.finish()
        }
        await #expect(throws: (any Error).self) { try await write.value }
        #expect(try await Self.openUploads(peer, bucket: store.configuration.bucket) == 0)
    }

    @Test("A failed UploadPart #2 aborts the upload")
    func failedSecondPart() async throws {
        let peer = try await MotoServer.peer()
        let transport = FaultTransport { request, _ in
            let query = request.url.query ?? ""
            return request.method == "PUT" && query.contains("partNumber=2&")
                ? .respond(TransportResponse(status: 400, body: Array("<Error><Code>InvalidArgument</Code></Error>".utf8)))
                : .pass
        }
        let store = try await Self.makeStore(peer, transport: transport)
        let writer = try await store.beginWrite(key: try BlobKey(validating: "failed.bin"), contentType: "application/octet-stream")
        try await writer.append(Self.part)
        try await writer.append(Self.part)
        let error = await #expect(throws: ExportError.self) {
            try await writer.append(Self.part)
            _ = try await writer.finish()
        }
        #expect(error?.code == .invalidRequest)
        let aborts = transport.requests.withLock { $0.filter { $0.method == "DELETE" && ($0.url.query ?? "").contains("uploadId=") } }
        #expect(aborts.count == 1, "the writer sent AbortMultipartUpload")
        #expect(try await Self.openUploads(peer, bucket: store.configuration.bucket) == 0)
    }

    /// S3's answer to a Complete of an upload it no longer has (completed or aborted).
    static let noSuchUpload = TransportResponse(status: 404, body: Array(
        "<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.</Message></Error>".utf8
    ))

    /// Whether a request is a `CompleteMultipartUpload` (a POST with `uploadId=`; Create has `uploads=`).
    static func isComplete(_ request: TransportRequest) -> Bool {
        request.method == "POST" && (request.url.query ?? "").contains("uploadId=")
    }

    /// A transport on which the first `CompleteMultipartUpload` meets `first` and every later one is
    /// answered `NoSuchUpload`, as S3 answers once the upload is gone.
    static func completeFailsOnce(_ first: FaultTransport.Action) -> FaultTransport {
        let completes = Mutex(0)
        return FaultTransport { request, _ in
            guard isComplete(request) else { return .pass }
            let attempt = completes.withLock { count in
                count += 1
                return count
            }
            return attempt == 1 ? first : .respond(noSuchUpload)
        }
    }

    @Test("A Complete whose response was lost is retried, and the retry's NoSuchUpload is checked against the object")
    func lostCompleteResponse() async throws {
        let peer = try await MotoServer.peer()
        // moto completes the upload and the writer sees a timeout instead of the answer. moto accepts
        // a repeated Complete; S3 answers NoSuchUpload once the upload is gone, so the retry gets that.
        let transport = Self.completeFailsOnce(.loseResponse(ExportError(.timeout, "injected: the response was lost")))
        let store = try await Self.makeStore(peer, transport: transport)
        let key = try BlobKey(validating: "lost-complete.bin")
        let tail = Array("the last, short part".utf8)
        let writer = try await store.beginWrite(key: key, contentType: "application/octet-stream")
        try await writer.append(Self.part)
        try await writer.append(Self.part)
        try await writer.append(tail)
        let metadata = try await writer.finish()
        #expect(metadata.size == Int64(2 * Self.part.count + tail.count))
        #expect(transport.requests.withLock { $0.filter(Self.isComplete).count } == 2, "the lost Complete was retried")
        var read: [UInt8] = []
        for try await chunk in try await store.read(key) { read += chunk }
        #expect(read == Self.part + Self.part + tail)
    }

    @Test("A retried Complete's NoSuchUpload with no object behind it is a retryable failure")
    func retriedCompleteWithoutObject() async throws {
        let peer = try await MotoServer.peer()
        // The first never reaches S3; the retry hears that the upload is gone (aborted by someone else).
        let transport = Self.completeFailsOnce(.fail(ExportError(.timeout, "injected: the request timed out")))
        let store = try await Self.makeStore(peer, transport: transport)
        let key = try BlobKey(validating: "gone.bin")
        let writer = try await store.beginWrite(key: key, contentType: "application/octet-stream")
        try await writer.append(Self.part)
        try await writer.append(Self.part)
        let error = await #expect(throws: ExportError.self) { _ = try await writer.finish() }
        #expect(error?.isRetryable == true, "the job may run again and write the blob anew")
        #expect(try await store.metadata(key) == nil)
        // The caller aborts a failed write (as ExportRunner does), so no upload is left behind.
        try await writer.abort()
        #expect(try await Self.openUploads(peer, bucket: store.configuration.bucket) == 0)
    }
}
