import ExportAdapters
@testable import ExportAWS
@testable import ExportFileSystem
@testable import ExportInMemory
import ExportCore
import ExportTestSupport
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The pipeline on the file-system adapters when the disk fails: a full disk is retried, an unwritable
/// directory fails the job with a readable reason, and nothing half-written is ever visible.
@Suite("Pipeline on failing file systems")
struct FileSystemPipelineTests {
    struct Setup {
        let directory: TestDirectory
        let clock = ManualClock()
        let jobs: FileJobStore
        let queue: FileQueue
        let blobs: FileBlobStore
        let outbox: OutboxNotifier
        let source: InMemoryMembershipSource

        init() throws {
            directory = try TestDirectory("pipeline")
            jobs = try FileJobStore(directory: directory.sub("jobs"))
            queue = try FileQueue(directory: directory.sub("queue"), clock: clock)
            blobs = try FileBlobStore(
                configuration: .init(directory: directory.sub("files"), linkSecret: Array(repeating: 9, count: 32), linkBaseURL: FSFixtures.linkBase), clock: clock)
            outbox = try OutboxNotifier(directory: directory.sub("outbox"), from: EmailAddress("exports@example.com")!, clock: clock)
            source = InMemoryMembershipSource(
                (0..<2500).map { index in
                    Membership(
                        membershipID: String(format: "m%05d", index), userID: "u1", organizationID: "o", organizationName: "Org",
                        plan: "pro", role: "member", status: "active", startedAt: Date(timeIntervalSince1970: 1_700_000_000))
                })
        }

        func request() async throws -> JobID {
            let service = try ExportService(ports: ports(blobs: blobs), configuration: .init(rateLimit: nil))
            return try await service.request(ExportRequest(owner: "u1", recipient: EmailAddress("ada@example.com")!)).jobID
        }

        func ports(blobs: any BlobStore) -> ExportPorts {
            ExportPorts(jobStore: jobs, queue: queue, blobStore: blobs, notifier: outbox, clock: clock)
        }

        func worker(blobs: any BlobStore) throws -> ExportWorker {
            try ExportWorker(
                ports: ports(blobs: blobs), source: source,
                configuration: .init(
                    concurrency: 1, retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .seconds(1), maxDelay: .seconds(1), jitter: .none),
                    pageSize: 100, chunkSize: 4096, randomSeed: 1))
        }

        var emails: [String] { directory.list("outbox").filter { $0.hasSuffix(".eml") } }
    }

    @Test("a full disk: the attempt is retried, nothing half-written is visible, the retry succeeds")
    func fullDisk() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let id = try await setup.request()
        let worker = try setup.worker(blobs: FullDiskOnce(store: setup.blobs))
        #expect(try await worker.processAvailable() == 1)
        let retrying = try #require(try await setup.jobs.get(id))
        #expect(retrying.state == .retryScheduled)
        #expect(retrying.failure?.code == "storageFull")
        #expect(setup.directory.list("files/blobs").isEmpty && setup.directory.list("files/tmp").isEmpty)
        #expect(setup.emails.isEmpty)

        setup.clock.advance(by: .seconds(2))
        #expect(try await worker.processAvailable() == 1)
        let done = try #require(try await setup.jobs.get(id))
        #expect(done.state == .succeeded)
        #expect(done.result?.rows == 2500)
        #expect(try await setup.blobs.metadata(try #require(done.result?.blobKey))?.size == done.result?.bytes)
        #expect(setup.emails == ["\(id).ready.eml"])
    }

    @Test("an unwritable directory: the job fails with a readable reason and one e-mail, nothing visible")
    func unwritableDirectory() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let id = try await setup.request()
        // Writes in progress go to files/tmp: make it a place this process cannot create files in
        // (root ignores permission bits, but /sys refuses new files to everyone).
        let temporary = setup.directory.path + "/files/tmp"
        try FileManager.default.removeItem(atPath: temporary)
        if geteuid() == 0 {
            symlink("/sys", temporary)
        } else {
            mkdir(temporary, 0o500)
        }
        #expect(try await setup.worker(blobs: setup.blobs).processAvailable() == 1)
        let failed = try #require(try await setup.jobs.get(id))
        #expect(failed.state == .failed)
        #expect(failed.failure?.code == "permissionDenied")
        #expect(failed.failure?.reason.contains("files/tmp") == true, "\(String(describing: failed.failure))")
        #expect(setup.directory.list("files/blobs").isEmpty)
        #expect(setup.emails == ["\(id).failed.eml"])
        #expect(try await setup.queue.deadLetters(limit: 10).count == 1)
    }
}

/// A ``FileBlobStore`` whose first write lands on `/dev/full` (every write fails with ENOSPC), through
/// the store's real writer.
final class FullDiskOnce: ForwardingBlobStore {
    let store: FileBlobStore
    var inner: any BlobStore { store }
    private let first = Mutex(true)

    init(store: FileBlobStore) { self.store = store }

    func beginWrite(key: BlobKey, contentType: String) async throws -> any BlobWriter {
        guard first.withLock({ state in defer { state = false }; return state }) else {
            return try await store.beginWrite(key: key, contentType: contentType)
        }
        let temporary = store.temporaryDirectory + "/0_devfull.part"
        _ = FileManager.default.createFile(atPath: temporary, contents: nil)
        let fd = open("/dev/full", O_WRONLY)
        guard fd >= 0 else { throw ExportError(.io, "cannot open /dev/full") }
        return FileBlobWriter(store: store, key: key, contentType: contentType, temporaryPath: temporary, fd: fd)
    }

}

@Suite("FileSystemBackend")
struct FileSystemBackendTests {
    @Test("one directory, the conventional layout, shared by every opener")
    func layout() async throws {
        let directory = try TestDirectory("backend")
        defer { directory.remove() }
        let from = EmailAddress("exports@example.com")!
        let first = try FileSystemBackend(directory: directory.url, linkSecret: Array(repeating: 1, count: 32), linkBaseURL: FSFixtures.linkBase, from: from)
        let second = try FileSystemBackend(
            directory: directory.url, linkSecret: Array(repeating: 1, count: 32), linkBaseURL: FSFixtures.linkBase, from: from)
        #expect(directory.list("") == ["control", "files", "jobs", "outbox", "queue", "schedules"])
        let job = try await first.jobStore.create(FSFixtures.job("shared")).job
        #expect(try await second.jobStore.get(job.id) == job)
        try await first.workerControl.setWorkerControl(WorkerControl(paused: true, changedBy: "alice"))
        #expect(try await second.workerControl.workerControl().paused)  // the pause reaches every opener
        let schedule = try await first.scheduleStore.create(
            try ExportSchedule(
                id: ScheduleID("shared")!, owner: "ada", name: "shared", recipient: from, options: ExportOptions(),
                recurrence: .every(.seconds(3600)), timeZone: "UTC", startsAt: FSFixtures.start, createdAt: FSFixtures.start))
        #expect(try await second.ports.scheduleStore?.get(schedule.id) == schedule)
        try await first.queue.enqueue(QueueMessage(jobID: job.id))
        #expect(try await second.queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first?.message.jobID == job.id)
    }

    @Test("a data folder that is a symbolic link out of the data directory is refused, naming it", arguments: [
        "jobs", "queue", "files", "outbox", "outbox/sent", "outbox/.tmp", "jobs/owners", "queue/ready", "files/blobs",
    ])
    func symlinkOutOfTheDataDirectory(_ folder: String) async throws {
        let directory = try TestDirectory("backend")
        let outside = try TestDirectory("outside")
        defer { directory.remove(); outside.remove() }
        let parent = (directory.path + "/" + folder as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        #expect(symlink(outside.path, directory.path + "/" + folder) == 0)
        let error = await expectExportError(.configuration) {
            try FileSystemBackend(directory: directory.url, linkSecret: Array(repeating: 1, count: 32), linkBaseURL: FSFixtures.linkBase, from: EmailAddress("exports@example.com")!)
        }
        #expect(error?.message.contains(folder) == true)
        #expect(outside.list("").isEmpty, "nothing was created outside the data directory")
    }

    @Test("a symbolic link that stays inside the data directory is followed")
    func symlinkInsideTheDataDirectory() async throws {
        let directory = try TestDirectory("backend")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.path + "/mail", withIntermediateDirectories: true)
        #expect(symlink(directory.path + "/mail", directory.path + "/outbox") == 0)
        _ = try FileSystemBackend(directory: directory.url, linkSecret: Array(repeating: 1, count: 32), linkBaseURL: FSFixtures.linkBase, from: EmailAddress("exports@example.com")!)
        #expect(directory.list("mail").contains("sent"))
    }
}

