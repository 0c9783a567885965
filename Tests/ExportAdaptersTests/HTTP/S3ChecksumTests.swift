import ExportAdapters
@testable import ExportAWS
import ExportCore
import Foundation
import Testing

/// The CRC-32 checksums the S3 writer sends, which S3 verifies on arrival.
@Suite("S3 checksums")
struct S3ChecksumTests {
    @Test("CRC-32 matches the published check value and zlib's empty input")
    func vectors() {
        // The CRC-32/ISO-HDLC check value of "123456789" is 0xCBF43926 (the CRC catalogue).
        #expect(S3Checksum.crc32Base64(Array("123456789".utf8)) == Data([0xCB, 0xF4, 0x39, 0x26]).base64EncodedString())
        #expect(S3Checksum.crc32Base64([]) == "AAAAAA==")
        #expect(S3Checksum.headers(nil, of: [1, 2, 3]).isEmpty)
        #expect(S3Checksum.headers(.crc32, of: Array("123456789".utf8)).map(\.value) == ["y/Q5Jg==", "CRC32"])
    }

    /// The object's checksum headers from a HEAD that asks for them.
    static func checksum(_ store: S3BlobStore, _ key: BlobKey) async throws -> (value: String?, type: String?) {
        let (endpoint, path) = store.location(key)
        let response = try await store.client.send(
            method: "HEAD", endpoint: endpoint, path: path, headers: [("x-amz-checksum-mode", "ENABLED")], contentHashHeader: true)
        #expect(response.isSuccess)
        return (response.header("x-amz-checksum-crc32"), response.header("x-amz-checksum-type"))
    }

    @Test(
        "Each object and part carries its CRC-32; S3 keeps the object's, a multipart one as the checksum of the parts'",
        .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"),
        arguments: ["urlsession", "http1"])
    func sent(transportName: String) async throws {
        // A moto of its own, so that the shared one's load does not slow the multipart uploads.
        let peer = try await MotoServer.start()
        defer { peer.stop() }
        let transport = FaultTransport(inner: transportName == "http1" ? HTTP1Transport() : URLSessionTransport()) { _, _ in .pass }
        let store = try S3BlobStore(
            configuration: .init(bucket: MotoServer.uniqueName("checksums"), partSize: S3BlobStore.Configuration.minimumPartSize, partsInFlight: 2),
            aws: MotoServer.configuration(peer), transport: transport)
        try await store.createBucket()

        let small = try BlobKey(validating: "small.txt")
        let writer = try await store.beginWrite(key: small, contentType: "text/plain")
        try await writer.append(Array("123456789".utf8))
        _ = try await writer.finish()
        #expect(try await Self.checksum(store, small).value == "y/Q5Jg==")

        let large = try BlobKey(validating: "large.bin")
        let bytes = (0..<(2 * S3BlobStore.Configuration.minimumPartSize + 12_345)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let multipart = try await store.beginWrite(key: large, contentType: "application/octet-stream")
        for start in stride(from: 0, to: bytes.count, by: 65_536) { try await multipart.append(Array(bytes[start..<min(bytes.count, start + 65_536)])) }
        _ = try await multipart.finish()
        #expect(try await S3BlobStoreTests.collect(try await store.read(large)) == bytes)

        let requests = transport.requests.withLock { $0 }
        let create = try #require(requests.first { $0.url.query?.contains("uploads") == true && $0.method == "POST" })
        #expect(create.header("x-amz-checksum-algorithm") == "CRC32")
        let parts = requests.filter { $0.method == "PUT" && $0.url.query?.contains("partNumber") == true }
        #expect(parts.count == 3)
        let partChecksums = parts.sorted { ($0.url.query ?? "") < ($1.url.query ?? "") }.map { $0.header("x-amz-checksum-crc32") ?? "" }
        let complete = try #require(requests.last { $0.method == "POST" && $0.url.query?.contains("uploadId") == true })
        for checksum in partChecksums { #expect(complete.bodyText.contains("<ChecksumCRC32>\(checksum)</ChecksumCRC32>")) }
        // moto computes the composite from the bytes it received: it equals the CRC-32 of the CRC-32s sent.
        let composite = S3Checksum.crc32Base64(partChecksums.flatMap { [UInt8](Data(base64Encoded: $0) ?? Data()) })
        let stored = try await Self.checksum(store, large)
        // (S3 appends "-3", the part count; moto 5.2 reports the checksum alone.)
        #expect(stored.value == composite || stored.value == composite + "-3", "\(String(describing: stored.value)) vs \(composite)")
    }

    @Test("Without a checksum nothing is sent", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
    func none() async throws {
        let peer = try await MotoServer.start()
        defer { peer.stop() }
        let transport = FaultTransport { _, _ in .pass }
        let store = try S3BlobStore(
            configuration: .init(bucket: MotoServer.uniqueName("nochecksums"), checksumAlgorithm: nil),
            aws: MotoServer.configuration(peer), transport: transport)
        try await store.createBucket()
        let writer = try await store.beginWrite(key: try BlobKey(validating: "a.txt"), contentType: "text/plain")
        try await writer.append([1, 2, 3])
        _ = try await writer.finish()
        #expect(transport.requests.withLock { $0 }.allSatisfy { request in
            !request.headers.contains { $0.name.lowercased().hasPrefix("x-amz-checksum") || $0.name.lowercased() == "x-amz-sdk-checksum-algorithm" }
        })
    }
}

extension TransportRequest {
    fileprivate var bodyText: String { String(decoding: body, as: UTF8.self) }
}
