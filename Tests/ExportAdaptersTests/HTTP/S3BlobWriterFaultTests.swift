@testable import ExportAdapters
import ExportCore
import Foundation
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
                ? .respond(HTTPResponse(status: 400, body: Array("<Error><Code>InvalidArgument</Code></Error>".utf8)))
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
}
