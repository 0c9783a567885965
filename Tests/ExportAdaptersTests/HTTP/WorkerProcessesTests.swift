import ExportAdapters
import ExportCore
import Foundation
import Testing

/// Two `export-aws-worker` processes share one SQS queue and one DynamoDB table on moto.
@Suite("Two worker processes on AWS", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct WorkerProcessesTests {
    /// The worker executable, built next to the test bundle by `swift build --build-tests`.
    static var workerBinary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("export-aws-worker")
    }

    static func run(_ binary: URL, environment: [String: String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = binary
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            }
        }
    }

    /// The worker's environment against moto and the host API fixture, plus `extra`.
    static func environment(
        moto: PeerProcess, host: PeerProcess, table: String, bucket: String, queues: SQSQueue.Configuration, extra: [String: String]
    ) -> [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto.baseURL.absoluteString,
            "EXPORT_TABLE": table, "EXPORT_BUCKET": bucket, "EXPORT_QUEUE_URL": queues.queueURL,
            "EXPORT_DLQ_URL": queues.deadLetterQueueURL, "EXPORT_SENDER": "exports@example.com",
            "MEMBERSHIPS_URL_TEMPLATE": "\(host.baseURL.absoluteString)/users/{owner}/memberships",
            "MEMBERSHIPS_TOKEN": "fixture-token",
        ].merging(extra) { $1 }
    }

    @Test("Every job is done once, with one e-mail each")
    func shareTheWork() async throws {
        let binary = Self.workerBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build first: swift build --build-tests (\(binary.path))")
        let moto = try await MotoServer.peer()
        let host = try await HostAPIServer.peer()
        let aws = MotoServer.configuration(moto)
        let table = MotoServer.uniqueName("jobs")
        let bucket = MotoServer.uniqueName("exports")
        let jobs = DynamoDBJobStore(tableName: table, aws: aws)
        try await jobs.createTable()
        try await S3BlobStore(configuration: .init(bucket: bucket), aws: aws).createBucket()
        try await SESNotifier(fromAddress: "exports@example.com", ledger: InMemoryNotificationLedger(), aws: aws)
            .createIdentity("exports@example.com")
        let queues = try await SQSQueue.createQueues(named: MotoServer.uniqueName("exports"), aws: aws)

        let service = try ExportService(
            ports: ExportPorts(
                jobStore: jobs, queue: SQSQueue(configuration: queues, aws: aws), blobStore: InMemoryBlobStore(), notifier: InMemoryNotifier()))
        var tickets: [(ExportTicket, String)] = []
        for index in 0..<8 {
            let recipient = "\(MotoServer.uniqueName("user-\(index)"))@example.com"
            let ticket = try await service.request(
                ExportRequest(owner: UserID(rawValue: "user-p\(index)"), recipient: EmailAddress(recipient)!, format: "csv"))
            tickets.append((ticket, recipient))
        }

        let environment = Self.environment(
            moto: moto, host: host, table: table, bucket: bucket, queues: queues, extra: ["EXPORT_IDLE_EXIT_SECONDS": "2"])
        async let first = Self.run(binary, environment: environment)
        async let second = Self.run(binary, environment: environment)
        let results = try await [first, second]
        var handled: [Int] = []
        for result in results {
            #expect(result.status == 0, "\(result.output)")
            // The worker also logs its start and every job; the count is on its "handled N deliveries" line.
            let line = result.output.split(separator: "\n").first { $0.contains(" handled ") && $0.hasSuffix(" deliveries") }
            let count = line?.split(separator: " ").dropFirst(2).first.flatMap { Int($0) }
            handled.append(count ?? 0)
        }
        #expect(handled.reduce(0, +) >= tickets.count, "handled per process: \(handled)")
        print("two worker processes handled \(handled) deliveries")
        for (ticket, recipient) in tickets {
            let job = try #require(try await jobs.get(ticket.job.id))
            #expect(job.state == .succeeded)
            #expect(job.attempt == 1, "each job ran once")
            #expect(try await MotoServer.sentEmails(moto, to: recipient).count == 1)
        }
    }
}
