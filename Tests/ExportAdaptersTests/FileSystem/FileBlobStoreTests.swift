import ExportAdapters
@testable import ExportAWS
@testable import ExportFileSystem
@testable import ExportInMemory
import ExportCore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("FileBlobStore")
struct FileBlobStoreTests {
    static let secret = Array("0123456789abcdef0123456789abcdef".utf8)

    static func makeStore(_ directory: TestDirectory, clock: ManualClock = ManualClock()) throws -> FileBlobStore {
        try FileBlobStore(configuration: .init(directory: directory.sub("blobs-root"), linkSecret: secret, linkBaseURL: FSFixtures.linkBase, readChunkSize: 1000), clock: clock)
    }

    static func readAll(_ store: FileBlobStore, _ key: BlobKey) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in try await store.read(key) {
            #expect(chunk.count <= 1000)
            bytes += chunk
        }
        return bytes
    }

    @Test("a blob is invisible until finish, then whole")
    func atomicVisibility() async throws {
        let directory = try TestDirectory("blobs")
        defer { directory.remove() }
        let store = try Self.makeStore(directory)
        let key = BlobKey("exports/u1/job.csv")!
        let content = FSFixtures.bytes(10_500)
        let writer = try await store.beginWrite(key: key, contentType: "text/csv")
        try await writer.append(Array(content[0..<4000]))
        try await writer.append(Array(content[4000...]))
        #expect(try await store.metadata(key) == nil)
        await expectExportError(.notFound) { try await store.read(key) }
        let metadata = try await writer.finish()
        #expect(metadata == BlobMetadata(key: key, size: 10_500, contentType: "text/csv"))
        #expect(try await store.metadata(key) == metadata)
        #expect(try await Self.readAll(store, key) == content)
        #expect(directory.list("blobs-root/tmp").isEmpty)
    }

    @Test("finishing again replaces the blob as a whole; delete is idempotent")
    func replaceAndDelete() async throws {
        let directory = try TestDirectory("blobs")
        defer { directory.remove() }
        let store = try Self.makeStore(directory)
        let key = BlobKey("a/b.jsonl")!
        for (size, type) in [(5000, "application/jsonl"), (7, "text/plain")] {
            let writer = try await store.beginWrite(key: key, contentType: type)
            try await writer.append(FSFixtures.bytes(size, seed: UInt8(size % 256)))
            _ = try await writer.finish()
        }
        #expect(try await Self.readAll(store, key) == FSFixtures.bytes(7, seed: 7))
        #expect(try await store.metadata(key)?.contentType == "text/plain")
        try await store.delete(key)
        try await store.delete(key)
        #expect(try await store.metadata(key) == nil)
    }

    @Test("abort removes the temp file and is idempotent; nothing becomes visible")
    func abort() async throws {
        let directory = try TestDirectory("blobs")
        defer { directory.remove() }
        let store = try Self.makeStore(directory)
        let key = BlobKey("x.csv")!
        let writer = try await store.beginWrite(key: key, contentType: "text/csv")
        try await writer.append(FSFixtures.bytes(100))
        #expect(directory.list("blobs-root/tmp").count == 1)
        try await writer.abort()
        try await writer.abort()
        #expect(directory.list("blobs-root/tmp").isEmpty)
        #expect(try await store.metadata(key) == nil)
        await expectExportError(.invalidRequest) { try await writer.finish() }
    }

    @Test("abortIncompleteWrites removes writes abandoned by a dead writer, not recent ones")
    func abandonedWrites() async throws {
        let directory = try TestDirectory("blobs")
        defer { directory.remove() }
        let clock = ManualClock()
        let store = try Self.makeStore(directory, clock: clock)
        do {
            // Dropped unfinished, as by a process that died: its lock is gone with its descriptor.
            let abandoned = try await store.beginWrite(key: BlobKey("old.csv")!, contentType: "text/csv")
            try await abandoned.append(FSFixtures.bytes(64))
        }
        clock.advance(by: .seconds(3600))
        // Dropped too, but too recent to be removed.
        do { _ = try await store.beginWrite(key: BlobKey("recent.csv")!, contentType: "text/csv") }
        let live = try await store.beginWrite(key: BlobKey("new.csv")!, contentType: "text/csv")
        try await live.append(FSFixtures.bytes(64))
        let removed = try await store.abortIncompleteWrites(startedBefore: clock.now().addingTimeInterval(-1800))
        #expect(removed == 1)
        #expect(directory.list("blobs-root/tmp").count == 2)
        #expect(try await store.metadata(BlobKey("old.csv")!) == nil)
        _ = try await live.finish()
        #expect(try await store.metadata(BlobKey("new.csv")!)?.size == 64)
        #expect(directory.list("blobs-root/tmp").count == 1)
    }

    @Test("keys cannot escape the root", arguments: ["../x", "/etc/passwd", "a/../../x", "a//b", "a/./b", "a\0b", "a\\b", "..", "%2e%2e/x", ""])
    func escapingKeys(raw: String) {
        #expect(BlobKey(raw) == nil)
    }

    @Test("a symbolic link planted under the root is never followed")
    func plantedSymlink() async throws {
        let directory = try TestDirectory("blobs")
        defer { directory.remove() }
        let store = try Self.makeStore(directory)
        let outside = directory.sub("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try directory.write("secret", to: "outside/data.csv")
        symlink(outside.path, directory.path + "/blobs-root/blobs/evil")
        symlink(outside.path + "/data.csv", directory.path + "/blobs-root/blobs/leak.csv")
        let key = BlobKey("evil/data.csv")!
        await expectExportError(.invalidKey) { try await store.read(key) }
        await expectExportError(.invalidKey) { try await store.metadata(key) }
        await expectExportError(.invalidKey) { try await store.delete(key) }
        await expectExportError(.invalidKey) { try await store.beginWrite(key: key, contentType: "text/csv") }
        await expectExportError(.invalidKey) { try await store.read(BlobKey("leak.csv")!) }
        #expect(try directory.read("outside/data.csv") == "secret")

        // A link planted in the metadata tree cannot make a delete remove a file outside the root.
        try directory.write("{}", to: "outside/victim.json")
        symlink(outside.path, directory.path + "/blobs-root/meta/evil2")
        await expectExportError(.invalidKey) { try await store.delete(BlobKey("evil2/victim")!) }
        #expect(try directory.read("outside/victim.json") == "{}")
    }

    @Test("a key cannot be both a file and a directory of another key")
    func prefixConflict() async throws {
        let directory = try TestDirectory("blobs")
        defer { directory.remove() }
        let store = try Self.makeStore(directory)
        let writer = try await store.beginWrite(key: BlobKey("a/b")!, contentType: "text/plain")
        try await writer.append([1, 2, 3])
        _ = try await writer.finish()
        await expectExportError(.notFound) { try await store.read(BlobKey("a")!) }
        #expect(try await store.metadata(BlobKey("a")!) == nil)
        let clash = try await store.beginWrite(key: BlobKey("a")!, contentType: "text/plain")
        try await clash.append([4])
        await expectExportError(.invalidKey) { try await clash.finish() }
        try await clash.abort()
        #expect(try await Self.readAll(store, BlobKey("a/b")!) == [1, 2, 3])
        #expect(directory.list("blobs-root/tmp").isEmpty)
    }

    @Test("a full disk is a retryable storageFull; abort leaves nothing behind")
    func diskFull() async throws {
        let directory = try TestDirectory("blobs")
        defer { directory.remove() }
        let store = try Self.makeStore(directory)
        // /dev/full fails every write with ENOSPC: the real write path meets a real full device.
        let fd = open("/dev/full", O_WRONLY)
        try #require(fd >= 0)
        let temporary = store.temporaryDirectory + "/0_full.part"
        try directory.write("", to: "blobs-root/tmp/0_full.part")
        let writer = FileBlobWriter(store: store, key: BlobKey("full.csv")!, contentType: "text/csv", temporaryPath: temporary, fd: fd)
        let error = await expectExportError(.storageFull) { try await writer.append(FSFixtures.bytes(10)) }
        #expect(error?.isRetryable == true)
        try await writer.abort()
        #expect(try await store.metadata(BlobKey("full.csv")!) == nil)
        #expect(directory.list("blobs-root/tmp").isEmpty)
    }

    @Test("an unwritable root is a permission error")
    func unwritableRoot() throws {
        let directory = try TestDirectory("blobs")
        defer { directory.remove() }
        let target = try unwritableDirectory(in: directory)
        let error = #expect(throws: ExportError.self) {
            _ = try FileBlobStore(configuration: .init(directory: target, linkSecret: Self.secret, linkBaseURL: FSFixtures.linkBase))
        }
        #expect(error?.code == .permissionDenied, "\(String(describing: error))")
    }

    @Test("a short secret is a configuration error")
    func shortSecret() throws {
        let directory = try TestDirectory("blobs")
        defer { directory.remove() }
        #expect(throws: ExportError.self) { try FileBlobStore(configuration: .init(directory: directory.url, linkSecret: [1, 2, 3], linkBaseURL: FSFixtures.linkBase)) }
    }
}
