import ExportAdapters
import ExportCore
import Foundation

/// A test job store that passes every call on to an in-memory store: a conformer writes only the calls
/// it changes (counts, fails, pages differently), and the rest come from here. Listing across owners is
/// not passed on: it stays the port's default (`unsupported`) unless a conformer writes it.
public protocol ForwardingJobStore: JobStore {
    /// Where the calls go.
    var inner: InMemoryJobStore { get }
}

extension ForwardingJobStore {
    public func create(_ job: ExportJob) async throws -> JobCreation { try await inner.create(job) }
    public func get(_ id: JobID) async throws -> ExportJob? { try await inner.get(id) }
    public func update(_ job: ExportJob) async throws -> ExportJob { try await inner.update(job) }
    public func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        try await inner.list(owner: owner, after: cursor, limit: limit)
    }
    public func stale(in states: Set<JobState>, updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        try await inner.stale(in: states, updatedBefore: updatedBefore, limit: limit)
    }
    public func unnotified(updatedBefore: Date, limit: Int) async throws -> [ExportJob] {
        try await inner.unnotified(updatedBefore: updatedBefore, limit: limit)
    }
    public func expired(now: Date, limit: Int) async throws -> [ExportJob] { try await inner.expired(now: now, limit: limit) }
    public func delete(_ job: ExportJob) async throws { try await inner.delete(job) }
}

/// A test queue that passes every call on to an in-memory queue; a conformer writes only the calls it
/// changes.
public protocol ForwardingQueue: Queue {
    /// Where the calls go.
    var inner: InMemoryQueue { get }
}

extension ForwardingQueue {
    public func enqueue(_ message: QueueMessage, delay: Duration) async throws -> MessageID { try await inner.enqueue(message, delay: delay) }
    public func receive(max: Int, visibilityTimeout: Duration, waitTime: Duration) async throws -> [Delivery] {
        try await inner.receive(max: max, visibilityTimeout: visibilityTimeout, waitTime: waitTime)
    }
    public func acknowledge(_ receipt: LeaseReceipt) async throws { try await inner.acknowledge(receipt) }
    public func release(_ receipt: LeaseReceipt, delay: Duration) async throws { try await inner.release(receipt, delay: delay) }
    public func extendLease(_ receipt: LeaseReceipt, by visibilityTimeout: Duration) async throws -> Date {
        try await inner.extendLease(receipt, by: visibilityTimeout)
    }
    public func deadLetter(_ receipt: LeaseReceipt, reason: String) async throws { try await inner.deadLetter(receipt, reason: reason) }
    public func deadLetters(limit: Int) async throws -> [DeadLetter] { try await inner.deadLetters(limit: limit) }
    public func redrive(_ ids: [MessageID]?) async throws -> Int { try await inner.redrive(ids) }
    public func jobsWithLiveMessages(among jobs: Set<JobID>) async throws -> Set<JobID>? { try await inner.jobsWithLiveMessages(among: jobs) }
}

/// A test blob store that passes every call on to another store; a conformer writes only the calls it
/// changes (a writer that fails or waits, a delete that races).
public protocol ForwardingBlobStore: BlobStore {
    /// Where the calls go.
    var inner: any BlobStore { get }
}

extension ForwardingBlobStore {
    public func beginWrite(key: BlobKey, contentType: String) async throws -> any BlobWriter {
        try await inner.beginWrite(key: key, contentType: contentType)
    }
    public func read(_ key: BlobKey) async throws -> AsyncThrowingStream<[UInt8], any Error> { try await inner.read(key) }
    public func metadata(_ key: BlobKey) async throws -> BlobMetadata? { try await inner.metadata(key) }
    public func delete(_ key: BlobKey) async throws { try await inner.delete(key) }
    public func downloadLink(for key: BlobKey, filename: String, expiresIn: Duration) async throws -> DownloadLink {
        try await inner.downloadLink(for: key, filename: filename, expiresIn: expiresIn)
    }
    public func abortIncompleteWrites(startedBefore date: Date) async throws -> Int { try await inner.abortIncompleteWrites(startedBefore: date) }
    public func resumeWrite(key: BlobKey, contentType: String, from point: BlobResumePoint) async throws -> (any BlobWriter)? {
        try await inner.resumeWrite(key: key, contentType: contentType, from: point)
    }
    public func discardWrite(_ point: BlobResumePoint) async throws { try await inner.discardWrite(point) }
}
