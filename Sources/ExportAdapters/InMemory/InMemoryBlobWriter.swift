import ExportCore

/// A writer of ``InMemoryBlobStore``: forwards each call to the store, which keeps the parts.
struct InMemoryBlobWriter: BlobWriter {
    let store: InMemoryBlobStore
    let uploadID: UInt64

    func append(_ bytes: [UInt8]) async throws {
        try store.append(bytes, to: uploadID)
    }

    func finish() async throws -> BlobMetadata {
        try store.finish(uploadID)
    }

    func abort() async throws {
        try store.abort(uploadID)
    }

    func checkpoint() async throws -> BlobResumePoint? {
        try store.checkpoint(uploadID)
    }

    func suspend() async throws {
        try store.suspend(uploadID)
    }
}
