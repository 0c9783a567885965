import ExportAdapters
import ExportCore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The file blob store's resumable writes: a checkpointed temp file survives the store being opened
/// again, is cut back to the checkpoint and continued by one writer at a time, and is swept only once
/// abandoned.
@Suite("File blob store: resumable writes")
struct FileBlobResumeTests {
    static func store(_ directory: TestDirectory) throws -> FileBlobStore {
        try FileBlobStore(configuration: .init(directory: directory.sub("files"), linkSecret: Array(repeating: 7, count: 32), linkBaseURL: FSFixtures.linkBase))
    }

    /// A write of three bytes with a checkpoint after them, its writer still open.
    static func checkpointed(_ store: FileBlobStore, _ key: BlobKey) async throws -> (any BlobWriter, BlobResumePoint) {
        let writer = try await store.beginWrite(key: key, contentType: "text/csv")
        try await writer.append([1, 2, 3])
        return (writer, try #require(try await writer.checkpoint()))
    }

    @Test("a checkpointed file outlives a store reopening; a live writer keeps it; resumed, it is cut back to the checkpoint and finishes exact")
    func resume() async throws {
        let directory = try TestDirectory("resume")
        defer { directory.remove() }
        let store = try Self.store(directory)
        let key = try BlobKey(validating: "exports/a.csv")
        let writer = try await store.beginWrite(key: key, contentType: "text/csv")
        try await writer.append(Array("header\nrow 1\n".utf8))
        let point = try #require(try await writer.checkpoint())
        #expect(point.size == 13)
        #expect(directory.list("files/tmp") == [point.token + ".resumable"])
        try await writer.append(Array("row 2, never covered by a checkpoint\n".utf8))
        // The writer is alive (a stalled worker): nobody else may continue its file.
        #expect(try await store.resumeWrite(key: key, contentType: "text/csv", from: point) == nil)
        try await writer.suspend()
        // A restarted process opens the store again: the checkpointed file is kept, unlike a `.part`.
        let reopened = try Self.store(directory)
        #expect(directory.list("files/tmp") == [point.token + ".resumable"])
        let resumed = try #require(try await reopened.resumeWrite(key: key, contentType: "text/csv", from: point))
        // One writer at a time: a second resume while the first holds the file is refused.
        #expect(try await reopened.resumeWrite(key: key, contentType: "text/csv", from: point) == nil)
        try await resumed.append(Array("row 2\n".utf8))
        let metadata = try await resumed.finish()
        #expect(metadata.size == 19)
        #expect(try await FileBlobStoreTests.readAll(reopened, key) == Array("header\nrow 1\nrow 2\n".utf8))
        #expect(directory.list("files/tmp").isEmpty)
    }

    @Test("tokens that are not this store's, a size past the file's end, and a missing file resume nothing")
    func refused() async throws {
        let directory = try TestDirectory("resume")
        defer { directory.remove() }
        let store = try Self.store(directory)
        let key = try BlobKey(validating: "exports/a.csv")
        let (writer, point) = try await Self.checkpointed(store, key)
        try await writer.suspend()
        let tokens = ["", "../../etc/passwd", "/etc/passwd", point.token + "/x", String(repeating: "0", count: 2000), "000000000000000_" + String(repeating: "G", count: 32)]
        for token in tokens {
            #expect(try await store.resumeWrite(key: key, contentType: "text/csv", from: BlobResumePoint(token: token, size: 0)) == nil, "\(token)")
        }
        #expect(try await store.resumeWrite(key: key, contentType: "text/csv", from: BlobResumePoint(token: point.token, size: 4)) == nil)
        #expect(try await store.resumeWrite(key: key, contentType: "text/csv", from: BlobResumePoint(token: point.token, size: -1)) == nil)
        try await store.discardWrite(point)
        #expect(directory.list("files/tmp").isEmpty)
        try await store.discardWrite(point)  // idempotent
        #expect(try await store.resumeWrite(key: key, contentType: "text/csv", from: point) == nil)
    }

    @Test("the sweep removes a checkpointed file only once nobody holds it and it was last written before the cut-off")
    func sweep() async throws {
        let directory = try TestDirectory("resume")
        defer { directory.remove() }
        let store = try Self.store(directory)
        let key = try BlobKey(validating: "exports/a.csv")
        let (writer, point) = try await Self.checkpointed(store, key)
        // Held: kept whatever the cut-off.
        #expect(try await store.abortIncompleteWrites(startedBefore: Date().addingTimeInterval(3600)) == 0)
        try await writer.suspend()
        // Written just now: a cut-off an hour ago keeps it (a job waiting out its retry delay).
        #expect(try await store.abortIncompleteWrites(startedBefore: Date().addingTimeInterval(-3600)) == 0)
        #expect(directory.list("files/tmp") == [point.token + ".resumable"])
        // Not written since the cut-off, and unlocked: removed. A child process this test process spawns
        // meanwhile (the resume pass starts workers beside it) holds a copy of every descriptor, and so the
        // lock, from its fork until its exec closes them: the sweep keeps the file until then, so it is
        // asked again for a bounded time.
        var removed = 0
        for _ in 0..<200 where removed == 0 {
            removed = try await store.abortIncompleteWrites(startedBefore: Date().addingTimeInterval(60))
            if removed == 0 { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(removed == 1)
        #expect(directory.list("files/tmp").isEmpty)
        // discardWrite leaves a file a live writer holds.
        let (live, livePoint) = try await Self.checkpointed(store, key)
        try await store.discardWrite(livePoint)
        #expect(directory.list("files/tmp") == [livePoint.token + ".resumable"])
        try await live.abort()
        #expect(directory.list("files/tmp").isEmpty)
    }
}
