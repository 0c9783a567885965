import ExportCore
import Foundation
import Synchronization

/// A `BlobStore` kept in memory, with S3-like multipart semantics.
///
/// A writer buffers its parts privately; the blob becomes readable, whole, only when
/// `BlobWriter.finish()` returns, replacing any blob under the same key. Aborted writers leave
/// nothing; writers that are never finished are removed by ``abortIncompleteWrites(startedBefore:)``.
/// Download links look like `memory://blobs/<key>?expires=<unix seconds>&filename=<name>&signature=<hex>`
/// and can be followed with ``download(_:)``, which checks their expiry on ``clock`` and their signature.
///
/// Inspect what was stored with ``contents(of:)``, ``keys`` and ``openWriterCount``; make calls fail
/// through ``faults``.
///
/// A class whose state sits behind one lock (not an actor): each call is a short critical section.
public final class InMemoryBlobStore: BlobStore, Sendable {
    struct Blob {
        var bytes: [UInt8]
        var contentType: String
    }

    struct Upload {
        let key: BlobKey
        let contentType: String
        let startedAt: Date
        var bytes: [UInt8] = []
        /// Whether a checkpoint names it (then a suspended writer leaves it for ``resumeWrite``).
        var resumable = false
        /// Whether a writer holds it; a resumed write takes only an upload nobody holds.
        var held = true
        /// The last append or checkpoint, for the sweep of abandoned checkpointed writes.
        var lastWrite: Date
    }

    struct State {
        var blobs: [BlobKey: Blob] = [:]
        var uploads: [UInt64: Upload] = [:]
        var nextUploadID: UInt64 = 0
    }

    let state = Mutex(State())
    /// The links' MAC, keyed with a random secret once: each signature copies it and hashes the
    /// message only, not the key as well.
    private let linkMAC: HMACSHA256

    /// The clock writes are stamped with and links expire on.
    public let clock: any ExportClock
    /// Makes chosen operations fail; see ``FaultInjector``.
    public let faults: FaultInjector
    /// The longest lifetime ``downloadLink(for:filename:expiresIn:)`` accepts.
    public let maximumLinkLifetime: Duration?
    /// The size of the chunks ``read(_:)`` yields.
    public let readChunkSize: Int

    /// Creates an empty store.
    ///
    /// - Parameters:
    ///   - clock: The clock for write start times and link expiry; the system clock by default.
    ///   - faults: The fault injector to consult; a fresh one by default.
    ///   - maximumLinkLifetime: The longest link lifetime accepted; seven days (as S3) by default.
    ///   - readChunkSize: The chunk size of reads; 64 KiB by default (at least 1).
    public init(
        clock: any ExportClock = SystemClock(),
        faults: FaultInjector = FaultInjector(),
        maximumLinkLifetime: Duration? = .seconds(7 * 24 * 3600),
        readChunkSize: Int = 64 * 1024
    ) {
        self.clock = clock
        self.faults = faults
        self.maximumLinkLifetime = maximumLinkLifetime
        self.readChunkSize = max(1, readChunkSize)
        var generator = SystemRandomNumberGenerator()
        linkMAC = HMACSHA256(key: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// Starts writing a blob.
    ///
    /// - Parameters:
    ///   - key: Where the blob will be stored.
    ///   - contentType: Its MIME type.
    /// - Returns: A writer; nothing is visible until it finishes.
    /// - Throws: An injected `ExportError`.
    public func beginWrite(key: BlobKey, contentType: String) async throws -> any BlobWriter {
        try faults.check(.beginWrite)
        let now = clock.now()
        let id = state.withLock { state in
            state.nextUploadID += 1
            state.uploads[state.nextUploadID] = Upload(key: key, contentType: contentType, startedAt: now, lastWrite: now)
            return state.nextUploadID
        }
        return InMemoryBlobWriter(store: self, uploadID: id)
    }

    /// Reads a blob as chunks of ``readChunkSize`` bytes (a snapshot taken at the call).
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Returns: The chunks.
    /// - Throws: `ExportError.Code.notFound` when there is no such blob, or an injected error.
    public func read(_ key: BlobKey) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        try faults.check(.read)
        guard let blob = state.withLock({ $0.blobs[key] }) else { throw ExportError(.notFound, "no blob \(key)") }
        let chunkSize = readChunkSize
        return AsyncThrowingStream { continuation in
            var offset = 0
            while offset < blob.bytes.count {
                let end = min(blob.bytes.count, offset + chunkSize)
                continuation.yield(Array(blob.bytes[offset..<end]))
                offset = end
            }
            continuation.finish()
        }
    }

    /// Describes a blob.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Returns: Its metadata, or `nil`.
    /// - Throws: An injected `ExportError`.
    public func metadata(_ key: BlobKey) async throws -> BlobMetadata? {
        try faults.check(.metadata)
        return state.withLock { $0.blobs[key] }.map { BlobMetadata(key: key, size: Int64($0.bytes.count), contentType: $0.contentType) }
    }

    /// Deletes a blob; a missing one is fine.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    /// - Throws: An injected `ExportError`.
    public func delete(_ key: BlobKey) async throws {
        try faults.check(.delete)
        state.withLock { _ = $0.blobs.removeValue(forKey: key) }
    }

    /// Makes a signed link that ``download(_:)`` accepts until `expiresIn` has passed on ``clock``.
    ///
    /// The returned expiry is exactly `clock.now() + expiresIn`; the URL carries it in whole seconds.
    ///
    /// - Parameters:
    ///   - key: The blob's key.
    ///   - filename: The file name to save as.
    ///   - expiresIn: The link's lifetime (positive, at most ``maximumLinkLifetime``).
    /// - Returns: The link and its expiry.
    /// - Throws: `ExportError.Code.invalidRequest` for a lifetime out of range,
    ///   `ExportError.Code.notFound` when there is no such blob, or an injected error.
    public func downloadLink(for key: BlobKey, filename: String, expiresIn: Duration) async throws -> DownloadLink {
        try faults.check(.downloadLink)
        guard expiresIn > .zero, expiresIn <= maximumLinkLifetime ?? expiresIn else {
            throw ExportError(.invalidRequest, "a link lifetime must be positive and at most \(maximumLinkLifetime ?? expiresIn)")
        }
        guard state.withLock({ $0.blobs[key] != nil }) else { throw ExportError(.notFound, "no blob \(key)") }
        let expiresAt = clock.now().adding(expiresIn)
        let seconds = expiresAt.timeIntervalSince1970.rounded(.down)
        let expires = String(seconds >= 9.2e18 ? Int64.max : Int64(seconds))  // clamped: a huge expiry must not trap
        let signature = signature(key: key.rawValue, expires: expires, filename: filename)
        // Nothing to escape (the usual key and file name): the text URLComponents would make, written directly.
        if Self.needsNoEscaping(key.rawValue, allowingSlash: true), Self.needsNoEscaping(filename, allowingSlash: false),
            let url = URL(string: "memory://blobs/\(key.rawValue)?expires=\(expires)&filename=\(filename)&signature=\(signature)")
        {
            return DownloadLink(url: url, expiresAt: expiresAt)
        }
        var components = URLComponents()
        components.scheme = "memory"
        components.host = "blobs"
        components.path = "/" + key.rawValue
        components.queryItems = [
            URLQueryItem(name: "expires", value: expires),
            URLQueryItem(name: "filename", value: filename),
            URLQueryItem(name: "signature", value: signature),
        ]
        guard let url = components.url else {
            throw ExportError(.invalidRequest, "cannot make a link for file name \(String(reflecting: filename))")
        }
        return DownloadLink(url: url, expiresAt: expiresAt)
    }

    /// Removes writers started before `date` that were never finished or aborted.
    ///
    /// - Parameters:
    ///   - date: The cut-off.
    /// - Returns: How many were removed.
    /// - Throws: An injected `ExportError`.
    @discardableResult
    public func abortIncompleteWrites(startedBefore date: Date) async throws -> Int {
        try faults.check(.abortIncompleteWrites)
        // A checkpointed write goes by its last write, and only once no writer holds it.
        return state.withLock { state in
            let old = state.uploads.filter { $0.value.resumable ? !$0.value.held && $0.value.lastWrite < date : $0.value.startedAt < date }.map(\.key)
            for id in old { state.uploads[id] = nil }
            return old.count
        }
    }

    // MARK: Writer operations

    func append(_ bytes: [UInt8], to uploadID: UInt64) throws(ExportError) {
        try faults.check(.append)
        let now = clock.now()
        try state.withLock { state throws(ExportError) in
            guard state.uploads[uploadID] != nil else {
                throw ExportError(.notFound, "the write was finished, aborted or cleaned up", isRetryable: false)
            }
            state.uploads[uploadID]?.bytes.append(contentsOf: bytes)
            state.uploads[uploadID]?.lastWrite = now
        }
    }

    func checkpoint(_ uploadID: UInt64) throws(ExportError) -> BlobResumePoint {
        try faults.check(.checkpoint)
        let now = clock.now()
        return try state.withLock { state throws(ExportError) in
            guard let upload = state.uploads[uploadID] else {
                throw ExportError(.notFound, "the write was finished, aborted or cleaned up", isRetryable: false)
            }
            state.uploads[uploadID]?.resumable = true
            state.uploads[uploadID]?.lastWrite = now
            return BlobResumePoint(token: String(uploadID), size: Int64(upload.bytes.count))
        }
    }

    func suspend(_ uploadID: UInt64) throws(ExportError) {
        let resumable = state.withLock { state -> Bool? in
            guard let upload = state.uploads[uploadID] else { return nil }
            if upload.resumable { state.uploads[uploadID]?.held = false }
            return upload.resumable
        }
        if resumable == false { try abort(uploadID) }
    }

    /// Takes over a checkpointed write that no writer holds, cut back to the point's size.
    ///
    /// - Parameters:
    ///   - key: The key the write was begun with.
    ///   - contentType: Its MIME type.
    ///   - point: The checkpoint's resume point.
    /// - Returns: The writer, or `nil` when the token names no such write, another key, a write still
    ///   held, or fewer bytes than the point.
    /// - Throws: An injected `ExportError`.
    public func resumeWrite(key: BlobKey, contentType: String, from point: BlobResumePoint) async throws -> (any BlobWriter)? {
        try faults.check(.resumeWrite)
        let now = clock.now()
        let taken = state.withLock { state -> UInt64? in
            guard let id = UInt64(point.token), let upload = state.uploads[id], upload.resumable, !upload.held, upload.key == key,
                point.size >= 0, Int64(upload.bytes.count) >= point.size
            else { return nil }
            state.uploads[id]?.bytes.removeLast(upload.bytes.count - Int(point.size))
            state.uploads[id]?.held = true
            state.uploads[id]?.lastWrite = now
            return id
        }
        return taken.map { InMemoryBlobWriter(store: self, uploadID: $0) }
    }

    /// Removes a checkpointed write unless a writer holds it.
    ///
    /// - Parameters:
    ///   - point: The checkpoint's resume point.
    /// - Throws: An injected `ExportError`.
    public func discardWrite(_ point: BlobResumePoint) async throws {
        try faults.check(.discardWrite)
        state.withLock { state in
            guard let id = UInt64(point.token), let upload = state.uploads[id], !upload.held else { return }
            state.uploads[id] = nil
        }
    }

    func finish(_ uploadID: UInt64) throws(ExportError) -> BlobMetadata {
        try faults.check(.finish)
        return try state.withLock { state throws(ExportError) in
            guard let upload = state.uploads.removeValue(forKey: uploadID) else {
                throw ExportError(.notFound, "the write was finished, aborted or cleaned up", isRetryable: false)
            }
            state.blobs[upload.key] = Blob(bytes: upload.bytes, contentType: upload.contentType)
            return BlobMetadata(key: upload.key, size: Int64(upload.bytes.count), contentType: upload.contentType)
        }
    }

    func abort(_ uploadID: UInt64) throws(ExportError) {
        try faults.check(.abort)
        state.withLock { _ = $0.uploads.removeValue(forKey: uploadID) }
    }

    // MARK: Links

    /// Whether `text` is made of characters that a URL's path and query keep as they are (RFC 3986's
    /// unreserved ones, and `/` when `allowingSlash`), so URLComponents would escape nothing in it.
    private static func needsNoEscaping(_ text: String, allowingSlash: Bool) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
                case UInt8(ascii: "/"): allowingSlash
                default: false
                }
            }
    }

    func signature(key: String, expires: String, filename: String) -> String {
        let message = Array("\(key)\n\(expires)\n\(filename)".utf8)
        var mac = linkMAC
        mac.update(message)
        return mac.finalize().hexString
    }

    var storedBlobs: [BlobKey: Blob] { state.withLock { $0.blobs } }
    var openUploads: Int { state.withLock { $0.uploads.count } }
}
