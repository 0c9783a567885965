import ExportAdapters
@testable import ExportAWS
@testable import ExportFileSystem
@testable import ExportInMemory
import ExportCore
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("FileBlobWriter descriptors")
struct FileBlobWriterTests {
    /// Counts `close` calls per descriptor, then really closes.
    final class CloseCounter: Sendable {
        let calls = Mutex<[Int32: Int]>([:])
        func close(_ fd: Int32) -> Int32 {
            calls.withLock { $0[fd, default: 0] += 1 }
            return Glibc.close(fd)
        }
        func count(_ fd: Int32) -> Int { calls.withLock { $0[fd] ?? 0 } }
    }

    @Test("a finish whose publish fails closes the temp file exactly once")
    func publishFailureClosesOnce() async throws {
        let directory = try TestDirectory("writer")
        defer { directory.remove() }
        let store = try FileBlobStoreTests.makeStore(directory)
        let below = try await store.beginWrite(key: BlobKey("a/b")!, contentType: "text/plain")
        try await below.append([1])
        _ = try await below.finish()

        let temporary = store.temporaryDirectory + "/0_clash.part"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        try #require(fd >= 0)
        let counter = CloseCounter()
        do {
            let writer = FileBlobWriter(
                store: store, key: BlobKey("a")!, contentType: "text/plain", temporaryPath: temporary, fd: fd,
                close: { counter.close($0) })
            try await writer.append([4])
            // `a` would be a file where `a/` is a directory: publish fails after the descriptor was closed.
            await expectExportError(.invalidKey) { try await writer.finish() }
            try await writer.abort()
        }
        #expect(counter.count(fd) == 1)
        #expect(directory.list("blobs-root/tmp").isEmpty)
    }

    @Test("fsync failing with EBADF fails the finish instead of publishing")
    func badDescriptorIsNotSuccess() async throws {
        let directory = try TestDirectory("writer")
        defer { directory.remove() }
        let store = try FileBlobStoreTests.makeStore(directory)
        let unused: Int32 = 99_999
        try #require(fcntl(unused, F_GETFD) == -1)
        try directory.write("looks finished", to: "blobs-root/tmp/0_bad.part")
        let writer = FileBlobWriter(
            store: store, key: BlobKey("bad.csv")!, contentType: "text/csv",
            temporaryPath: store.temporaryDirectory + "/0_bad.part", fd: unused, close: { _ in 0 })
        await expectExportError(.io) { try await writer.finish() }
        #expect(try await store.metadata(BlobKey("bad.csv")!) == nil)
    }

    @Test("a sweep of abandoned writes keeps a live writer's file whatever its age, removes dead ones")
    func sweepSkipsLiveWriters() async throws {
        let directory = try TestDirectory("writer")
        defer { directory.remove() }
        let clock = ManualClock()
        let store = try FileBlobStoreTests.makeStore(directory, clock: clock)
        let live = try await store.beginWrite(key: BlobKey("slow.csv")!, contentType: "text/csv")
        try await live.append([1, 2, 3])
        do {
            // Dropped without finish or abort: its descriptor (and lock) is gone, as when a process dies.
            let dropped = try await store.beginWrite(key: BlobKey("dropped.csv")!, contentType: "text/csv")
            try await dropped.append([9])
        }
        // Left by a killed process: nobody holds it open.
        try directory.write("partial", to: "blobs-root/tmp/000000000000001_0123.part")
        #expect(directory.list("blobs-root/tmp").count == 3)

        // Age zero: every file started before "an hour from now" is old enough.
        let removed = try await store.abortIncompleteWrites(startedBefore: clock.now().addingTimeInterval(3600))
        #expect(removed == 2)
        #expect(directory.list("blobs-root/tmp").count == 1)
        try await live.append([4])
        let metadata = try await live.finish()
        #expect(metadata.size == 4)
        #expect(try await FileBlobStoreTests.readAll(store, BlobKey("slow.csv")!) == [1, 2, 3, 4])
        #expect(directory.list("blobs-root/tmp").isEmpty)
    }
}
