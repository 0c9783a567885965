import ExportCore
import Foundation

/// Checks that a `BlobStore` keeps every promise of the port's "Implementation requirements".
///
/// Blobs are written under a random prefix (`conformance/<token>/…`) so a shared bucket or directory
/// can be used; the suite deletes what it wrote. One case calls
/// `BlobStore.abortIncompleteWrites(startedBefore:)` with a cut-off a little after `now()`, which also
/// aborts other writes in progress in the same store: do not run it against a store in use.
///
/// ```swift
/// let clock = ManualClock()
/// try await BlobStoreConformance(makeStore: { InMemoryBlobStore(clock: clock) }, now: clock.now).run()
/// ```
public struct BlobStoreConformance: Sendable {
    /// Sizes and tolerances, chosen by the caller to suit the store.
    public struct Configuration: Sendable {
        /// The size of the large blob written in many parts (several MiB by default).
        public var largeBlobSize: Int
        /// The size of each part of the large blob.
        public var partSize: Int
        /// The lifetime asked of download links.
        public var linkLifetime: Duration
        /// How far a link's expiry may be from `now() + linkLifetime` (clock skew, rounding).
        public var linkTolerance: Duration

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - largeBlobSize: The large blob's size; 6 MiB + 123 bytes by default.
        ///   - partSize: Its part size; 256 KiB + 7 bytes by default, so parts and reads do not align.
        ///   - linkLifetime: The link lifetime; one hour by default.
        ///   - linkTolerance: The accepted error on a link's expiry; 5 seconds by default.
        public init(
            largeBlobSize: Int = 6 * 1024 * 1024 + 123,
            partSize: Int = 256 * 1024 + 7,
            linkLifetime: Duration = .seconds(3600),
            linkTolerance: Duration = .seconds(5)
        ) {
            self.largeBlobSize = max(1, largeBlobSize)
            self.partSize = max(1, partSize)
            self.linkLifetime = linkLifetime
            self.linkTolerance = linkTolerance
        }
    }

    let configuration: Configuration
    let makeStore: @Sendable () async throws -> any BlobStore
    let now: @Sendable () -> Date
    let fetch: (@Sendable (URL) async throws -> [UInt8])?
    let advance: (@Sendable (Duration) async throws -> Void)?

    /// Creates the suite.
    ///
    /// - Parameters:
    ///   - configuration: Sizes and tolerances.
    ///   - makeStore: Makes the store under test; called once per case.
    ///   - now: The store's current time (its injected clock's `now`, or `Date()` for a real service).
    ///   - fetch: Downloads through a link as a browser would, throwing when the link is refused; when
    ///     given, the suite checks that links work, cannot be altered to reach another key, and (with
    ///     `advance`) stop working when they expire.
    ///   - advance: Lets time pass on the store's clock (advance a manual clock, or sleep: then keep
    ///     ``Configuration/linkLifetime`` short).
    public init(
        configuration: Configuration = Configuration(),
        makeStore: @escaping @Sendable () async throws -> any BlobStore,
        now: @escaping @Sendable () -> Date = { Date() },
        fetch: (@Sendable (URL) async throws -> [UInt8])? = nil,
        advance: (@Sendable (Duration) async throws -> Void)? = nil
    ) {
        self.configuration = configuration
        self.makeStore = makeStore
        self.now = now
        self.fetch = fetch
        self.advance = advance
    }

    /// Runs every case.
    ///
    /// - Throws: ``ConformanceFailure`` at the first broken requirement, or the store's own error when
    ///   it fails where it should not.
    public func run() async throws {
        try await runCase("BlobStore", "a blob is invisible until finish", invisibleUntilFinish)
        try await runCase("BlobStore", "finish replaces a blob as a whole", replaceOnFinish)
        try await runCase("BlobStore", "abort discards a write", abort)
        try await runCase("BlobStore", "incomplete writes are cleaned up", abortIncompleteWrites)
        try await runCase("BlobStore", "many appends read back byte for byte", manyAppends)
        try await runCase("BlobStore", "a multi-MiB blob reads back byte for byte", largeBlob)
        try await runCase("BlobStore", "an empty blob", emptyBlob)
        try await runCase("BlobStore", "delete is idempotent", delete)
        try await runCase("BlobStore", "download links expire", downloadLink)
    }

    // MARK: Helpers

    func key(_ name: String, token: String) throws -> BlobKey {
        try BlobKey(validating: "conformance/\(token)/\(name)")
    }

    func readAll(_ store: any BlobStore, _ key: BlobKey) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in try await store.read(key) { bytes += chunk }
        return bytes
    }

    func expectMissing(_ store: any BlobStore, _ key: BlobKey, _ why: String) async throws {
        let metadata = try await store.metadata(key)
        try check(metadata == nil, "\(why), but metadata returned \(String(describing: metadata))")
        try await expectError([.notFound], "\(why): read") { try await readAll(store, key) }
    }

    func write(_ store: any BlobStore, _ key: BlobKey, _ bytes: [UInt8], partSize: Int) async throws -> BlobMetadata {
        let writer = try await store.beginWrite(key: key, contentType: "text/csv")
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + partSize)
            try await writer.append(Array(bytes[offset..<end]))
            offset = end
        }
        return try await writer.finish()
    }

    /// Deterministic, non-repeating-looking bytes.
    static func pattern(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                buffer[index] = UInt8(truncatingIfNeeded: state)
            }
            initialized = count
        }
    }

    // MARK: Cases

    private func invisibleUntilFinish() async throws {
        let store = try await makeStore()
        let key = try key("visible.csv", token: runToken())
        let bytes = Array("id,name\r\n1,Ada\r\n".utf8)
        let writer = try await store.beginWrite(key: key, contentType: "text/csv")
        try await expectMissing(store, key, "nothing may be visible before a write begins appending")
        try await writer.append(Array(bytes.prefix(5)))
        try await writer.append(Array(bytes.dropFirst(5)))
        try await expectMissing(store, key, "a blob must be invisible until finish")
        let finished = try await writer.finish()
        try check(finished.key == key && finished.size == Int64(bytes.count), "finish returned \(finished)")
        let metadata = try require(try await store.metadata(key), "a finished blob has no metadata")
        try check(metadata.size == Int64(bytes.count), "metadata size \(metadata.size), wrote \(bytes.count)")
        try check(metadata.contentType == "text/csv", "metadata content type \(metadata.contentType), wrote text/csv")
        let read = try await readAll(store, key)
        try check(read == bytes, "read back \(read.count) bytes that differ from the \(bytes.count) written")
        try await store.delete(key)
    }

    private func replaceOnFinish() async throws {
        let store = try await makeStore()
        let key = try key("replaced.csv", token: runToken())
        let old = Self.pattern(count: 1000, seed: 1)
        let new = Self.pattern(count: 300, seed: 2)
        _ = try await write(store, key, old, partSize: 100)
        let writer = try await store.beginWrite(key: key, contentType: "application/x-ndjson")
        try await writer.append(new)
        let during = try await readAll(store, key)
        try check(during == old, "while a new write is in progress the old blob must stay readable whole")
        _ = try await writer.finish()
        let after = try await readAll(store, key)
        try check(after == new, "after finish the blob must be exactly the new content (read \(after.count) bytes)")
        let metadata = try await store.metadata(key)
        try check(metadata?.size == 300 && metadata?.contentType == "application/x-ndjson", "metadata was not replaced: \(String(describing: metadata))")
        try await store.delete(key)
    }

    private func abort() async throws {
        let store = try await makeStore()
        let token = runToken()
        let fresh = try key("aborted.csv", token: token)
        let writer = try await store.beginWrite(key: fresh, contentType: "text/csv")
        try await writer.append(Self.pattern(count: 500, seed: 3))
        try await writer.abort()
        try await writer.abort()
        try await expectMissing(store, fresh, "an aborted write must leave nothing")

        let existing = try key("kept.csv", token: token)
        let kept = Self.pattern(count: 200, seed: 4)
        _ = try await write(store, existing, kept, partSize: 64)
        let rewrite = try await store.beginWrite(key: existing, contentType: "text/csv")
        try await rewrite.append(Self.pattern(count: 50, seed: 5))
        try await rewrite.abort()
        let read = try await readAll(store, existing)
        try check(read == kept, "aborting a rewrite must leave the existing blob as it was")
        try await store.delete(existing)
    }

    private func abortIncompleteWrites() async throws {
        let store = try await makeStore()
        let token = runToken()
        let survivor = try key("survivor.csv", token: token)
        let writer = try await store.beginWrite(key: survivor, contentType: "text/csv")
        try await writer.append([1, 2, 3])
        try await store.abortIncompleteWrites(startedBefore: now().addingTimeInterval(-3600))
        try await writer.append([4])
        _ = try await writer.finish()
        let read = try await readAll(store, survivor)
        try check(read == [1, 2, 3, 4], "a write started after the cut-off was disturbed by abortIncompleteWrites")

        // An abandoned write: its writer is dropped without finish or abort, as when its process dies.
        // (A store may keep the write of a writer it knows to be alive, however old; FileBlobStore does.)
        let abandoned = try key("abandoned.csv", token: token)
        do {
            let orphan = try await store.beginWrite(key: abandoned, contentType: "text/csv")
            try await orphan.append(Self.pattern(count: 100, seed: 6))
        }
        let removed = try await store.abortIncompleteWrites(startedBefore: now().addingTimeInterval(60))
        try check(removed >= 1, "abortIncompleteWrites removed \(removed) writes; the abandoned one was started before the cut-off")
        try await expectMissing(store, abandoned, "a write removed by abortIncompleteWrites must leave nothing")
        try await store.delete(survivor)
    }

    private func manyAppends() async throws {
        let store = try await makeStore()
        let key = try key("many-parts.csv", token: runToken())
        let writer = try await store.beginWrite(key: key, contentType: "text/csv")
        var expected: [UInt8] = []
        for index in 0..<1000 {
            let part = Self.pattern(count: 1 + (index * 37) % 301, seed: UInt64(index + 10))
            expected += part
            try await writer.append(part)
            if index % 100 == 0 { try await writer.append([]) }
        }
        let metadata = try await writer.finish()
        try check(metadata.size == Int64(expected.count), "finish reported \(metadata.size) bytes, wrote \(expected.count)")
        let read = try await readAll(store, key)
        try check(read.count == expected.count, "read back \(read.count) bytes, wrote \(expected.count)")
        try check(read == expected, "the bytes read back differ from those written")
        try await store.delete(key)
    }

    private func largeBlob() async throws {
        let store = try await makeStore()
        let key = try key("large.csv", token: runToken())
        let bytes = Self.pattern(count: configuration.largeBlobSize, seed: 42)
        let metadata = try await write(store, key, bytes, partSize: configuration.partSize)
        try check(metadata.size == Int64(bytes.count), "finish reported \(metadata.size) bytes, wrote \(bytes.count)")
        let read = try await readAll(store, key)
        try check(read.count == bytes.count, "read back \(read.count) bytes of \(bytes.count)")
        if read != bytes, let mismatch = zip(read, bytes).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            throw ConformanceFailure("the large blob differs at byte \(mismatch.offset)", location: "largeBlob")
        }
        try await store.delete(key)
    }

    private func emptyBlob() async throws {
        let store = try await makeStore()
        let key = try key("empty.csv", token: runToken())
        let writer = try await store.beginWrite(key: key, contentType: "text/csv")
        let metadata = try await writer.finish()
        try check(metadata.size == 0, "an empty blob reported size \(metadata.size)")
        let stored = try await store.metadata(key)
        try check(stored?.size == 0, "an empty blob must exist with size 0, metadata: \(String(describing: stored))")
        let read = try await readAll(store, key)
        try check(read.isEmpty, "an empty blob read back \(read.count) bytes")
        try await store.delete(key)
    }

    private func delete() async throws {
        let store = try await makeStore()
        let key = try key("deleted.csv", token: runToken())
        try await store.delete(key)
        _ = try await write(store, key, [1, 2, 3], partSize: 2)
        try await store.delete(key)
        try await expectMissing(store, key, "a deleted blob must be gone")
        try await store.delete(key)
    }
}
