import ExportAdapters
import ExportCore
import Foundation
import Testing

/// The whole pipeline on the HTTP adapters: the host's memberships API (Python fixture) → ExportService
/// → SQS → ExportWorker → S3 → SES, all against moto, checked against the same export run on the
/// in-memory adapters.
@Suite("Pipeline on AWS adapters against moto", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct AWSPipelineTests {
    struct Stack {
        let aws: AWSConfiguration
        let jobs: DynamoDBJobStore
        let queueConfiguration: SQSQueue.Configuration
        let blobs: S3BlobStore
        let notifier: SESNotifier
        let source: HTTPMembershipSource

        /// A fresh queue adapter (as a separate worker process would have).
        func queue() -> SQSQueue { SQSQueue(configuration: queueConfiguration, aws: aws) }

        /// Ports with their own job store and queue adapters (as a separate process would have).
        func ports() -> ExportPorts {
            ExportPorts(jobStore: DynamoDBJobStore(tableName: jobs.tableName, aws: aws), queue: queue(), blobStore: blobs, notifier: notifier)
        }

        func worker() throws -> ExportWorker {
            try ExportWorker(
                ports: ports(), source: source,
                configuration: .init(concurrency: 2, visibilityTimeout: .seconds(120), receiveWaitTime: .zero, pageSize: 3)
            )
        }
    }

    static func stack() async throws -> Stack {
        let moto = try await MotoServer.peer()
        let host = try await HostAPIServer.peer()
        let aws = MotoServer.configuration(moto)
        let jobs = DynamoDBJobStore(tableName: MotoServer.uniqueName("jobs"), aws: aws)
        try await jobs.createTable()
        let queues = try await SQSQueue.createQueues(named: MotoServer.uniqueName("exports"), aws: aws)
        let blobs = try S3BlobStore(configuration: .init(bucket: MotoServer.uniqueName("exports")), aws: aws)
        try await blobs.createBucket()
        let notifier = SESNotifier(
            fromAddress: "exports@example.com", ledger: DynamoDBNotificationLedger(tableName: jobs.tableName, aws: aws), aws: aws
        )
        try await notifier.createIdentity("exports@example.com")
        let source = try HTTPMembershipSource(configuration: .init(
            urlTemplate: "\(host.baseURL.absoluteString)/users/{owner}/memberships", bearerToken: "fixture-token"
        ))
        return Stack(aws: aws, jobs: jobs, queueConfiguration: queues, blobs: blobs, notifier: notifier, source: source)
    }

    /// The bytes the same export produces on the in-memory adapters.
    static func reference(owner: UserID, source: HTTPMembershipSource) async throws -> [UInt8] {
        let clock = ManualClock()
        let jobs = InMemoryJobStore()
        let queue = InMemoryQueue(clock: clock)
        let blobs = InMemoryBlobStore(clock: clock)
        let ports = ExportPorts(jobStore: jobs, queue: queue, blobStore: blobs, notifier: InMemoryNotifier(), clock: clock)
        let service = try ExportService(ports: ports)
        let ticket = try await service.request(ExportRequest(owner: owner, recipient: EmailAddress("ref@example.com")!, format: "csv"))
        let worker = try ExportWorker(ports: ports, source: source, configuration: .init(receiveWaitTime: .zero, pageSize: 3))
        try await worker.processAvailable()
        let key = try #require(try await jobs.get(ticket.job.id)?.result?.blobKey)
        return try #require(await blobs.contents(of: key))
    }

    static func link(in html: String) throws -> URL {
        let start = try #require(html.range(of: "href=\""))
        let end = try #require(html[start.upperBound...].firstIndex(of: "\""))
        let escaped = String(html[start.upperBound..<end]).replacingOccurrences(of: "&amp;", with: "&")
        return try #require(URL(string: escaped))
    }

    @Test("request → SQS → worker → S3 → SES: the e-mailed link downloads the reference file byte for byte")
    func endToEnd() async throws {
        let stack = try await Self.stack()
        let moto = try await MotoServer.peer()
        let owner = UserID(rawValue: "u1")
        let recipient = "\(MotoServer.uniqueName("u1"))@example.com"
        let service = try ExportService(ports: stack.ports())
        let ticket = try await service.request(ExportRequest(owner: owner, recipient: EmailAddress(recipient)!, format: "csv"))
        #expect(ticket.job.state == .queued)

        let worker = try stack.worker()
        var rounds = 0
        while try await service.status(of: ticket.job.id, requester: owner).state != .succeeded, rounds < 20 {
            try await worker.processAvailable()
            rounds += 1
        }
        let job = try await service.status(of: ticket.job.id, requester: owner)
        #expect(job.state == .succeeded)
        #expect(job.result?.rows == 7)

        let messages = try await MotoServer.sentEmails(moto, to: recipient)
        #expect(messages.count == 1)
        let html = try #require(messages.first?["body"]?.stringValue)
        let download = try await URLSessionTransport().send(TransportRequest(method: "GET", url: try Self.link(in: html)))
        #expect(download.status == 200)
        let reference = try await Self.reference(owner: owner, source: stack.source)
        #expect(download.body == reference)
        #expect(String(decoding: reference, as: UTF8.self).contains("\"Org \"\"3\"\", Ltd\""))

        // A second worker seeing the same job again changes nothing and sends no second e-mail.
        try await stack.worker().processAvailable()
        #expect(try await MotoServer.sentEmails(moto, to: recipient).count == 1)
    }

    @Test("Two workers with their own adapters share one queue and table: every job done once, one e-mail each")
    func twoWorkers() async throws {
        let stack = try await Self.stack()
        let moto = try await MotoServer.peer()
        let service = try ExportService(ports: stack.ports())
        var tickets: [(ExportTicket, String)] = []
        for index in 0..<6 {
            let recipient = "\(MotoServer.uniqueName("user-\(index)"))@example.com"
            let ticket = try await service.request(ExportRequest(owner: UserID(rawValue: "user-\(index)"), recipient: EmailAddress(recipient)!, format: "csv"))
            tickets.append((ticket, recipient))
        }
        let created = tickets.filter { !$0.0.deduplicated }
        #expect(created.count == 6)
        let first = try stack.worker()
        let second = try stack.worker()
        var rounds = 0
        while rounds < 30 {
            async let a = first.processAvailable()
            async let b = second.processAvailable()
            let handled = try await a + b
            let states = try await created.asyncMap { try await stack.jobs.get($0.0.job.id)?.state }
            if states.allSatisfy({ $0 == .succeeded }) { break }
            if handled == 0 { rounds += 1 }
        }
        for (ticket, recipient) in created {
            #expect(try await stack.jobs.get(ticket.job.id)?.state == .succeeded)
            #expect(try await MotoServer.sentEmails(moto, to: recipient).count == 1)
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
