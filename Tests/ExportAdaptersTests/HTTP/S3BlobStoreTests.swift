import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("S3BlobStore against moto", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct S3BlobStoreTests {
    static func makeStore(
        _ peer: PeerProcess, partsInFlight: Int = 2, readChunkSize: Int = 4 * 1024 * 1024, unsignedParts: Bool = false
    ) async throws -> S3BlobStore {
        let store = try S3BlobStore(
            configuration: .init(
                bucket: MotoServer.uniqueName("exports"), keyPrefix: "tenant-a/",
                partSize: S3BlobStore.Configuration.minimumPartSize, partsInFlight: partsInFlight,
                readChunkSize: readChunkSize, serverSideEncryption: "AES256", unsignedPartPayloads: unsignedParts
            ),
            aws: MotoServer.configuration(peer)
        )
        try await store.createBucket()
        return store
    }

    static func collect(_ stream: AsyncThrowingStream<[UInt8], any Error>) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in stream { bytes += chunk }
        return bytes
    }

    @Test("A small blob round-trips: write, metadata, read, presigned link, delete")
    func roundTrip() async throws {
        let peer = try await MotoServer.peer()
        let store = try await Self.makeStore(peer)
        let key = try BlobKey(validating: "exports/job-1.csv")
        let writer = try await store.beginWrite(key: key, contentType: "text/csv")
        try await writer.append(Array("id,name\n".utf8))
        #expect(try await store.metadata(key) == nil, "nothing is visible before finish")
        try await writer.append(Array("1,Ada\n".utf8))
        let finished = try await writer.finish()
        #expect(finished == BlobMetadata(key: key, size: 14, contentType: "text/csv"))
        #expect(try await store.metadata(key) == finished)
        #expect(try await Self.collect(store.read(key)) == Array("id,name\n1,Ada\n".utf8))

        let link = try await store.downloadLink(for: key, filename: "my export.csv", expiresIn: .seconds(3600))
        #expect(link.url.absoluteString.contains("X-Amz-Signature="))
        #expect(link.url.absoluteString.contains("/tenant-a/exports/job-1.csv?"))
        let download = try await URLSessionTransport().send(TransportRequest(method: "GET", url: link.url))
        #expect(download.status == 200)
        #expect(download.body == Array("id,name\n1,Ada\n".utf8))
        // moto ignores response-content-disposition; check that it is in the signed link instead.
        #expect(link.url.absoluteString.contains("response-content-disposition=attachment%3B%20filename%3D%22my_export.csv%22"))

        await #expect(throws: ExportError.self) {
            _ = try await store.downloadLink(for: key, filename: "x.csv", expiresIn: .seconds(604_801))
        }
        try await store.delete(key)
        #expect(try await store.metadata(key) == nil)
        try await store.delete(key)
        let error = await #expect(throws: ExportError.self) { _ = try await store.read(key) }
        #expect(error?.code == .notFound)
    }

    @Test("Real 5 MiB multipart upload with parts in flight, read back in ranges byte-identical")
    func multipart() async throws {
        let peer = try await MotoServer.peer()
        let store = try await Self.makeStore(peer, partsInFlight: 2, readChunkSize: 3 * 1024 * 1024, unsignedParts: true)
        let key = try BlobKey(validating: "big/file.bin")
        var generator = SplitMix(seed: 42)
        let total = 2 * S3BlobStore.Configuration.minimumPartSize + 123_457
        var expected: [UInt8] = []
        expected.reserveCapacity(total)
        let writer = try await store.beginWrite(key: key, contentType: "application/octet-stream")
        var written = 0
        while written < total {
            let count = min(700_001, total - written)
            var chunk = [UInt8](repeating: 0, count: count)
            chunk.withUnsafeMutableBytes { buffer in
                var offset = 0
                while offset < count {
                    var word = generator.next()
                    let length = min(8, count - offset)
                    withUnsafeBytes(of: &word) { buffer.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: length) }
                    offset += length
                }
            }
            expected += chunk
            try await writer.append(chunk)
            written += chunk.count
        }
        let metadata = try await writer.finish()
        #expect(metadata.size == Int64(total))
        #expect(try await store.metadata(key)?.size == Int64(total))
        var actual: [UInt8] = []
        var chunks = 0
        for try await chunk in try await store.read(key) {
            actual += chunk
            chunks += 1
        }
        #expect(actual == expected)
        #expect(chunks == 4, "11 MiB in 3 MiB ranges")
    }

    @Test("Abort leaves no upload behind; abandoned uploads are found by abortIncompleteWrites")
    func abortAndSweep() async throws {
        let peer = try await MotoServer.peer()
        let store = try await Self.makeStore(peer, partsInFlight: 1, unsignedParts: true)
        let part = [UInt8](repeating: 7, count: S3BlobStore.Configuration.minimumPartSize)

        let aborted = try await store.beginWrite(key: try BlobKey(validating: "a.bin"), contentType: "application/octet-stream")
        try await aborted.append(part)
        try await aborted.abort()
        try await aborted.abort()
        #expect(try await store.abortIncompleteWrites(startedBefore: Date().addingTimeInterval(3600)) == 0)

        let abandoned = try await store.beginWrite(key: try BlobKey(validating: "b.bin"), contentType: "application/octet-stream")
        try await abandoned.append(part)
        // moto reports every upload as initiated on 2010-11-10, so "started before" is only checked from above.
        #expect(try await store.abortIncompleteWrites(startedBefore: Date().addingTimeInterval(3600)) == 1)
        #expect(try await store.abortIncompleteWrites(startedBefore: Date().addingTimeInterval(3600)) == 0)
        #expect(try await store.metadata(try BlobKey(validating: "b.bin")) == nil)
    }

    @Test("A missing bucket is a permanent notFound error")
    func missingBucket() async throws {
        let peer = try await MotoServer.peer()
        let store = try S3BlobStore(configuration: .init(bucket: MotoServer.uniqueName("absent")), aws: MotoServer.configuration(peer))
        let writer = try await store.beginWrite(key: try BlobKey(validating: "x.csv"), contentType: "text/csv")
        try await writer.append([1, 2, 3])
        let error = await #expect(throws: ExportError.self) { _ = try await writer.finish() }
        #expect(error?.code == .notFound)
        #expect(error?.isRetryable == false)
    }

    @Test("Configuration rejects parts under 5 MiB")
    func smallParts() {
        #expect(throws: ExportError.self) {
            _ = try S3BlobStore(
                configuration: .init(bucket: "b", partSize: 1024),
                aws: AWSConfiguration(credentials: MotoServer.credentials, region: "us-east-1")
            )
        }
    }
}

/// A seeded generator so test data is reproducible.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
