import ExportAdapters
import ExportConformance
import ExportCore
import Foundation
import Testing

/// The public conformance suites against the AWS adapters on moto.
///
/// moto's SQS runs on real time, so the queue suite lets time pass by sleeping (with a 2-second lease):
/// this is the one place where a real peer makes sleeping unavoidable.
@Suite("AWS adapters pass the conformance suites", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct AWSConformanceTests {
    @Test(arguments: ["urlsession", "http1"])
    func jobStore(transport: String) async throws {
        let peer = try await MotoServer.peer()
        let store = DynamoDBJobStore(
            tableName: MotoServer.uniqueName("conformance"), aws: MotoServer.configuration(peer),
            transport: transport == "http1" ? HTTP1Transport() : URLSessionTransport())
        try await store.createTable()
        try await JobStoreConformance { store }.run()
    }

    @Test func scheduleStore() async throws {
        let peer = try await MotoServer.peer()
        let jobs = DynamoDBJobStore(tableName: MotoServer.uniqueName("schedules"), aws: MotoServer.configuration(peer))
        try await jobs.createTable()
        let store = DynamoDBScheduleStore(tableName: jobs.tableName, aws: MotoServer.configuration(peer))
        try await ScheduleStoreConformance { store }.run()
        // Schedule items stay out of the jobs' owner index and scans.
        let owner = try #require(try await store.due(at: Date(timeIntervalSince1970: 946_684_800 + 900), limit: 100).first?.owner)
        #expect(try await jobs.list(owner: owner, after: nil, limit: 10).items.isEmpty)
    }

    @Test("worker control, two stores on one table")
    func workerControl() async throws {
        let peer = try await MotoServer.peer()
        let jobs = DynamoDBJobStore(tableName: MotoServer.uniqueName("control"), aws: MotoServer.configuration(peer))
        try await jobs.createTable()
        #expect(try await DynamoDBWorkerControlStore(tableName: jobs.tableName, aws: MotoServer.configuration(peer)).workerControl() == WorkerControl())
        try await WorkerControlStoreConformance {
            DynamoDBWorkerControlStore(tableName: jobs.tableName, aws: MotoServer.configuration(peer))
        }.run()
        // The control item stays out of the jobs' listings.
        #expect(try await jobs.jobs(matching: JobFilter(), after: nil, limit: 10).items.isEmpty)
    }

    /// On the signature-checking moto, so every S3 call of the suite (multipart included) is verified.
    ///
    /// Without `fetch`: moto cannot check presigned URLs (with checking off it serves any URL; with it
    /// on it fails with a 500, `KeyError: 'HTTP_AUTHORIZATION'` in `moto/iam/access_control.py`), so
    /// that altered links are refused rests on SigV4 itself, checked by the signer's vectors; that a
    /// link downloads the blob is checked in `S3BlobStoreTests`.
    @Test(arguments: ["urlsession", "http1"])
    func blobStore(transport: String) async throws {
        let (peer, credentials) = try await CheckedMoto.shared()
        let store = try S3BlobStore(
            configuration: .init(bucket: MotoServer.uniqueName("conformance"), unsignedPartPayloads: true),
            aws: MotoServer.configuration(peer, credentials: credentials),
            transport: transport == "http1" ? HTTP1Transport() : URLSessionTransport()
        )
        try await store.createBucket()
        try await BlobStoreConformance(
            configuration: .init(largeBlobSize: 11 * 1024 * 1024 + 123, partSize: 256 * 1024 + 7),
            makeStore: { store }
        ).run()
    }

    @Test func queue() async throws {
        let peer = try await MotoServer.peer()
        let aws = MotoServer.configuration(peer)
        try await QueueConformance(
            // A 6-second lease (SQS counts whole seconds) with a margin well under half of it: long
            // enough for the new holder to outlive four stale calls, two empty 1-second long polls and a
            // dead-letter listing (which ends with one more), with leases counted from before each
            // receive's long poll. 4 s was too tight once every request asks a credential provider: the
            // stale-receipt case lost its lease in a quiet CI run.
            configuration: .init(visibilityTimeout: .seconds(6), margin: .seconds(1), receiveWaitTime: .seconds(1), receiveAttempts: 3),
            makeQueue: {
                SQSQueue(configuration: try await SQSQueue.createQueues(named: MotoServer.uniqueName("conformance"), aws: aws), aws: aws)
            },
            advance: { try await Task.sleep(for: $0) }
        ).run()
    }

    @Test func notifier() async throws {
        let peer = try await MotoServer.peer()
        let aws = MotoServer.configuration(peer)
        let table = DynamoDBJobStore(tableName: MotoServer.uniqueName("ledger"), aws: aws)
        try await table.createTable()
        let sender = SESNotifier(fromAddress: "exports@example.com", ledger: DynamoDBNotificationLedger(tableName: table.tableName, aws: aws), aws: aws)
        try await sender.createIdentity("exports@example.com")
        let recipient = "\(MotoServer.uniqueName("conformance"))@example.com"
        try await NotifierConformance(
            recipient: EmailAddress(recipient),
            makeNotifier: { SESNotifier(fromAddress: "exports@example.com", ledger: DynamoDBNotificationLedger(tableName: table.tableName, aws: aws), aws: aws) },
            deliveredCount: { key in
                // Keys are "<job id>.<kind>"; the e-mail names the job and its subject the kind.
                guard let dot = key.lastIndex(of: ".") else { return 0 }
                let job = String(key[..<dot])
                let kind = key[key.index(after: dot)...] == "ready" ? "ready" : "failed"
                return try await MotoServer.sentEmails(peer, to: recipient).filter {
                    ($0["body"]?.stringValue?.contains(job) ?? false) && ($0["subject"]?.stringValue?.hasSuffix(kind) ?? false)
                }.count
            }
        ).run()
    }
}
