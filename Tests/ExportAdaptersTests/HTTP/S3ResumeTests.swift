import ExportAdapters
@testable import ExportAWS
import ExportCore
import Foundation
import Testing

/// Resumable S3 writes against moto: checkpoints, suspension, resuming past a stalled writer's parts,
/// what a resume refuses, the sweep, and the runner continuing an interrupted export byte for byte.
///
/// Parts are 8 MiB, so a checkpoint with 5 MiB or more buffered uploads the buffer as a part of its
/// own (moto, like S3, refuses parts under 5 MiB but the last, `EntityTooSmall` on Complete).
@Suite("S3 resumable writes against moto", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct S3ResumeTests {
    static let mebibyte = 1024 * 1024
    static let partSize = 8 * mebibyte

    static func makeStore(_ peer: PeerProcess) async throws -> S3BlobStore {
        let store = try S3BlobStore(
            configuration: .init(bucket: MotoServer.uniqueName("resume"), keyPrefix: "tenant-r/", partSize: partSize, unsignedPartPayloads: true),
            aws: MotoServer.configuration(peer)
        )
        try await store.createBucket()
        return store
    }

    /// Reproducible bytes, different for each seed.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix(seed: seed)
        var result: [UInt8] = []
        result.reserveCapacity(count + 8)
        while result.count < count { withUnsafeBytes(of: generator.next()) { result += $0 } }
        return Array(result.prefix(count))
    }

    static func read(_ store: S3BlobStore, _ key: BlobKey) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in try await store.read(key) { bytes += chunk }
        return bytes
    }

    /// Uploads a part to an upload behind the writers' backs, as a stalled writer would.
    static func rawUploadPart(_ store: S3BlobStore, key: BlobKey, uploadID: String, number: Int, bytes: [UInt8]) async throws {
        let (endpoint, path) = store.location(key)
        let response = try await store.client.send(
            method: "PUT", endpoint: endpoint, path: path, query: [("partNumber", String(number)), ("uploadId", uploadID)],
            body: bytes, payload: .unsigned, contentHashHeader: true
        )
        guard response.isSuccess else { throw store.client.xmlError(response, operation: "UploadPart") }
    }

    @Test("A suspended upload resumes past a stalled writer's parts; the object is exactly the expected bytes", arguments: [1, 1000])
    func resumePastStalledParts(listPageSize: Int) async throws {
        let peer = try await MotoServer.peer()
        let store = try await Self.makeStore(peer)
        let key = try BlobKey(validating: "exports/resumed.bin")
        let mib = Self.mebibyte
        let first = try await store.beginWrite(key: key, contentType: "application/octet-stream")
        var expected: [UInt8] = []
        func append(_ writer: any BlobWriter, _ count: Int, seed: UInt64) async throws {
            let chunk = Self.bytes(count, seed: seed)
            expected += chunk
            try await writer.append(chunk)
        }

        try await append(first, 6 * mib, seed: 1)
        let point1 = try #require(try await first.checkpoint(), "6 MiB buffered: uploaded as part 1")
        #expect(point1.size == Int64(6 * mib))
        try await append(first, 9 * mib, seed: 2)  // part 2 (8 MiB) by the append, 1 MiB buffered
        #expect(try await first.checkpoint() == nil, "1 MiB buffered is under S3's minimum part: no point")
        try await append(first, 5 * mib, seed: 3)  // 6 MiB buffered
        let point = try #require(try await first.checkpoint(), "part 3")
        #expect(point == BlobResumePoint(token: point1.token, size: Int64(20 * mib)))
        #expect(try await store.resumeWrite(key: key, contentType: "application/octet-stream", from: point) == nil,
                "a live writer of this store holds the upload")

        try await first.append(Self.bytes(3 * mib, seed: 99))  // past the checkpoint: lost with the writer
        try await first.suspend()
        try await first.suspend()
        // A stalled writer goes on after the checkpoint: parts 4 and 5 with other bytes.
        try await Self.rawUploadPart(store, key: key, uploadID: point.token, number: 4, bytes: Self.bytes(5 * mib, seed: 98))
        try await Self.rawUploadPart(store, key: key, uploadID: point.token, number: 5, bytes: Self.bytes(5 * mib, seed: 97))
        #expect(try await store.metadata(key) == nil, "nothing is visible before finish")

        let resumed = try #require(
            try await store.resumedWriter(key: key, contentType: "application/octet-stream", from: point, pageSize: listPageSize)
        )
        try await append(resumed, 7 * mib + 12_345, seed: 4)
        let metadata = try await resumed.finish()
        #expect(metadata.size == Int64(expected.count))
        let head = try #require(try await store.head(key))
        #expect(head.etag?.hasSuffix("-4\"") == true, "parts 1-3 and the resumed part 4; the stalled part 5 is left out")
        #expect(try await Self.read(store, key) == expected)
        #expect(try await store.listParts(objectKey: "tenant-r/" + key.rawValue, uploadID: point.token) == nil, "the upload is complete")
        try await store.delete(key)
    }

    @Test("A resume refuses an aborted upload, a size no run of parts holds, and malformed tokens")
    func refusals() async throws {
        let peer = try await MotoServer.peer()
        let store = try await Self.makeStore(peer)
        let key = try BlobKey(validating: "exports/refused.bin")
        let type = "application/octet-stream"
        let mib = Self.mebibyte

        let writer = try await store.beginWrite(key: key, contentType: type)
        try await writer.append(Self.bytes(6 * mib, seed: 5))
        let six = try #require(try await writer.checkpoint())
        try await writer.append(Self.bytes(6 * mib, seed: 6))
        let twelve = try #require(try await writer.checkpoint())
        try await writer.suspend()
        for size in [Int64(0), -1, Int64(7 * mib), Int64(11 * mib), Int64(12 * mib + 1), Int64(18 * mib), .max] {
            let point = BlobResumePoint(token: twelve.token, size: size)
            #expect(try await store.resumeWrite(key: key, contentType: type, from: point) == nil, "size \(size)")
        }
        #expect(try await store.resumeWrite(key: try BlobKey(validating: "exports/other.bin"), contentType: type, from: twelve) == nil,
                "the upload is another key's")

        // The earlier point still resumes (the parts after it are left out), and only once at a time.
        let fromSix = try #require(try await store.resumeWrite(key: key, contentType: type, from: six))
        #expect(try await store.resumeWrite(key: key, contentType: type, from: six) == nil, "held by the live resumed writer")
        try await fromSix.suspend()

        try await store.discardWrite(twelve)
        try await store.discardWrite(twelve)
        #expect(try await store.resumeWrite(key: key, contentType: type, from: twelve) == nil, "aborted: NoSuchUpload")
        #expect(try await store.resumeWrite(key: key, contentType: type, from: six) == nil)

        let malformed = [
            "../x", "", String(repeating: "a", count: 2000), "a/b", "x?uploads", "a&partNumber=1", "a%2Fb", "a b", "a\nb", "a\u{0}b",
            "ü", "nonexistent-upload-id",
        ]
        for token in malformed {
            let point = BlobResumePoint(token: token, size: Int64(6 * mib))
            do {
                #expect(try await store.resumeWrite(key: key, contentType: type, from: point) == nil, "token \(token.debugDescription.prefix(40))")
            } catch let error as ExportError {
                Issue.record("a malformed token is refused with nil, not \(error)")
            }
            try await store.discardWrite(point)
        }
    }

    @Test("The sweep keeps a suspended upload until its parts are older than the cutoff")
    func sweepKeepsSuspended() async throws {
        let peer = try await MotoServer.peer()
        let store = try await Self.makeStore(peer)
        let key = try BlobKey(validating: "exports/kept.bin")
        let writer = try await store.beginWrite(key: key, contentType: "application/octet-stream")
        try await writer.append(Self.bytes(6 * Self.mebibyte, seed: 7))
        let point = try #require(try await writer.checkpoint())
        try await writer.suspend()
        // moto reports every upload as initiated in 2010: only the parts' times tell it is recent.
        #expect(try await store.abortIncompleteWrites(startedBefore: Date().addingTimeInterval(-600)) == 0)
        let resumed = try #require(try await store.resumeWrite(key: key, contentType: "application/octet-stream", from: point))
        try await resumed.suspend()
        #expect(try await store.abortIncompleteWrites(startedBefore: Date().addingTimeInterval(3600)) == 1)
        #expect(try await store.resumeWrite(key: key, contentType: "application/octet-stream", from: point) == nil)
    }

    @Test("A resumed upload goes on with the checksum the upload was created with, or is not resumed")
    func resumedChecksum() {
        let with = S3CompletedPart(number: 1, etag: "\"a\"", checksumCRC32: "y/Q5Jg==")
        let without = S3CompletedPart(number: 2, etag: "\"b\"", checksumCRC32: nil)
        #expect(S3BlobStore.resumedChecksum(listed: nil, parts: [without]) == .continue(nil))
        #expect(S3BlobStore.resumedChecksum(listed: nil, parts: [with]) == .continue(.crc32))
        #expect(S3BlobStore.resumedChecksum(listed: nil, parts: [with, without]) == .refuse)
        #expect(S3BlobStore.resumedChecksum(listed: "CRC32", parts: [with]) == .continue(.crc32))
        // Created with CRC32, but a part's checksum is not listed: completing it would be refused.
        #expect(S3BlobStore.resumedChecksum(listed: "CRC32", parts: [without]) == .refuse)
        #expect(S3BlobStore.resumedChecksum(listed: "SHA256", parts: [without]) == .refuse)
        #expect(S3BlobStore.resumedChecksum(listed: "CRC64NVME", parts: [with]) == .refuse)
        // S3's own full-object checksum of an upload created without one.
        #expect(S3BlobStore.resumedChecksum(listed: "CRC64NVME", parts: [without]) == .continue(nil))
        #expect(S3BlobStore.resumedChecksum(listed: "CRC32", parts: []) == .continue(.crc32))
    }

    @Test("ListParts answers are read strictly")
    func strictListParts() throws {
        func page(_ body: String) throws -> S3PartsPage {
            try S3PartsPage.parse(Array(("<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" + body + "</ListPartsResult>").utf8), uploadID: "u1")
        }
        let part = { (n: String, size: String) in "<Part><PartNumber>\(n)</PartNumber><ETag>\"e\(n)\"</ETag><Size>\(size)</Size></Part>" }
        let good = try page("<UploadId>u1</UploadId><IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>" + part("1", "5") + part("2", "6"))
        #expect(good.parts.map(\.number) == [1, 2] && good.parts.map(\.size) == [5, 6] && good.nextMarker == 2 && good.isTruncated)
        #expect(try page(part("1", "5")).isTruncated == false)
        let bad = [
            "<UploadId>u2</UploadId>", part("0", "5"), part("10001", "5"), part("x", "5"), part("1", "-1"), part("1", "5x"),
            part("2", "5") + part("1", "5"), part("1", "5") + part("1", "5"), "<Part><PartNumber>1</PartNumber><Size>5</Size></Part>",
            "<IsTruncated>yes</IsTruncated>", "<IsTruncated>true</IsTruncated>" + part("1", "5"),
            "<IsTruncated>true</IsTruncated><NextPartNumberMarker>0</NextPartNumberMarker>" + part("1", "5"),
        ]
        for body in bad {
            #expect(throws: ExportError.self, "\(body)") { _ = try page(body) }
        }
        #expect(try page("<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>" + part("1", "5")).checksumAlgorithm == "CRC32")
        #expect(try page(part("1", "5")).checksumAlgorithm == nil)
        #expect(try page("<ChecksumAlgorithm></ChecksumAlgorithm>" + part("1", "5")).checksumAlgorithm == nil)
        #expect(try page("<ChecksumAlgorithm>SHA512</ChecksumAlgorithm>" + part("1", "5")).checksumAlgorithm == "SHA512")
        #expect(throws: ExportError.self) { _ = try S3PartsPage.parse(Array("<Error><Code>x</Code></Error>".utf8), uploadID: "u1") }
        #expect(throws: ExportError.self) { _ = try S3PartsPage.parse(Array("not xml".utf8), uploadID: "u1") }
    }

    // MARK: - The runner

    static let pageSize = 100

    /// Wide rows (about 600 bytes), so a few thousand fill a part: the debug-built encoder is slow per row.
    static let filler = String(repeating: "Lorem ipsum dolor sit amet ", count: 20)

    static func source(rows: Int) -> InMemoryMembershipSource {
        InMemoryMembershipSource(
            (0..<rows).map { index in
                Membership(
                    membershipID: String(format: "m%09d", index), userID: "u1", organizationID: String(format: "org-%05d", index % 977),
                    organizationName: "Organisation \(String(format: "%05d", (index * 7919) % 100_000)) " + filler, plan: "pro", role: "member",
                    status: "active", startedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(index)))
            })
    }

    static func job(_ format: ExportFormat) -> ExportJob {
        ExportJob(
            id: JobID("job-resume")!, owner: "u1", recipient: EmailAddress("ada@example.com")!, options: ExportOptions(format: format),
            createdAt: Date(timeIntervalSince1970: 1_767_225_600))
    }

    static func runner(_ source: InMemoryMembershipSource, _ store: any BlobStore) -> ExportRunner {
        ExportRunner(source: source, blobStore: store, pageSize: pageSize, compressionLevel: 0)
    }

    /// Bytes per row of `format` (every row is as wide as the next), from two small runs in memory.
    static func rowWidth(_ format: ExportFormat) async throws -> Int {
        func size(_ rows: Int) async throws -> Int64 {
            let store = InMemoryBlobStore()
            return try await runner(source(rows: rows), store).run(job(format), into: try BlobKey(validating: "w.csv")) { _ in }.blob.size
        }
        return Int(try await size(200) - size(100)) / 100
    }

    enum Interruption: CaseIterable {
        /// The attempt stops right after recording its second checkpoint.
        case afterSecondCheckpoint
        /// It dies at its third checkpoint, made (its part uploaded) but never recorded: the resumed
        /// write must leave that part out.
        case beforeRecordingThird
    }

    @Test("The runner resumes an interrupted export into the uninterrupted run's bytes", arguments: [ExportFormat.csv, .csvGzip])
    func runnerResumes(format: ExportFormat) async throws {
        let peer = try await MotoServer.peer()
        let store = try await Self.makeStore(peer)
        // About 6.5 MiB between checkpoints: over S3's 5 MiB minimum part, under the 8 MiB part size,
        // so each checkpoint's buffer is uploaded as a part and every checkpoint succeeds.
        let interval = Int((6.5 * Double(Self.mebibyte) / Double(try await Self.rowWidth(format)) / Double(Self.pageSize)).rounded()) * Self.pageSize
        let rows = interval * 4 + interval / 2
        let source = Self.source(rows: rows)
        let job = Self.job(format)

        let plainKey = try BlobKey(validating: "exports/plain.\(format.fileExtension)")
        var points = 0
        let plain = try await Self.runner(source, store).run(job, into: plainKey, resumingFrom: nil, checkpointRows: interval) { report in
            if report.checkpoint != nil { points += 1 }
        }
        #expect(points == 4)
        #expect(plain.rows == Int64(rows) && plain.resumedAfterRow == nil)
        let plainBytes = try await Self.read(store, plainKey)

        for interruption in Interruption.allCases {
            let key = try BlobKey(validating: "exports/interrupted-\(interruption).\(format.fileExtension)")
            var recorded: [ExportCheckpoint] = []
            struct Stop: Error {}
            await #expect(throws: Stop.self) {
                _ = try await Self.runner(source, store).run(job, into: key, resumingFrom: nil, checkpointRows: interval) { report in
                    guard let checkpoint = report.checkpoint else { return }
                    if recorded.count == 2 { throw Stop() }  // the third: made, not recorded
                    recorded.append(checkpoint)
                    if recorded.count == 2, interruption == .afterSecondCheckpoint { throw Stop() }
                }
            }
            let saved = try #require(recorded.last)
            #expect(recorded.count == 2 && saved.rows == Int64(2 * interval) && saved.blobKey == key)
            #expect(try await store.metadata(key) == nil, "nothing is visible after the interruption")

            let output = try await Self.runner(source, store).run(job, into: try BlobKey(validating: "exports/unused.csv"), resumingFrom: saved, checkpointRows: interval) { _ in }
            #expect(output.resumedAfterRow == saved.rows, "\(interruption)")
            #expect(output.blob.key == key)
            #expect(output.rows == plain.rows && output.sha256 == plain.sha256 && output.blob.size == plain.blob.size, "\(interruption)")
            let resumedBytes = try await Self.read(store, key)
            #expect(resumedBytes == plainBytes, "\(interruption): byte for byte")
            #expect(SHA256Hasher.hash(resumedBytes).hexString == plain.sha256)
            try await store.delete(key)
        }
        #expect(try await store.metadata(try BlobKey(validating: "exports/unused.csv")) == nil, "the resumed runs never started afresh")
        try await store.delete(plainKey)
    }
}
