import ExportAdapters
import ExportCore
import Foundation
import Testing

// The wiring printed in Docs/AWS.md, compiled and run here exactly as printed there.

// snippet:begin
/// Wires the pipeline on AWS from the standard variables (AWS_REGION, optionally AWS_ENDPOINT_URL;
/// credentials from the SDKs' default chain) and the queue URLs.
func makeAWSExport(
    environment: [String: String], source: any MembershipSource
) throws -> (service: ExportService, worker: ExportWorker) {
    let backend = try AWSBackend(
        aws: try AWSConfiguration.fromEnvironment(environment),
        table: "exports",
        files: .init(bucket: "acme-exports", keyPrefix: "exports/", serverSideEncryption: "AES256"),
        queue: .init(queueURL: environment["EXPORT_QUEUE_URL"] ?? "", deadLetterQueueURL: environment["EXPORT_DLQ_URL"] ?? ""),
        sender: try EmailAddress(validating: "exports@acme.example"))
    return (try ExportService(ports: backend.ports), try ExportWorker(ports: backend.ports, source: source))
}
// snippet:end

@Suite("Docs/AWS.md example", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct AWSDocsExampleTests {
    static func snippet() throws -> String {
        let text = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let begin = try #require(text.range(of: "// snippet:begin\n"))
        let end = try #require(text.range(of: "// snippet:end"))
        return String(text[begin.upperBound..<end.lowerBound])
    }

    @Test("The guide prints the compiled wiring verbatim")
    func verbatim() throws {
        let guide = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Docs/AWS.md")
        let text = try String(contentsOf: guide, encoding: .utf8)
        #expect(text.contains(try Self.snippet()))
    }

    @Test("The documented wiring runs an export against moto")
    func runs() async throws {
        let moto = try await MotoServer.peer()
        let host = try await HostAPIServer.peer()
        var environment = [
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto.baseURL.absoluteString,
        ]
        let aws = try AWSConfiguration.fromEnvironment(environment)
        try await DynamoDBJobStore(tableName: "exports", aws: aws).createTable()
        try await S3BlobStore(configuration: .init(bucket: "acme-exports"), aws: aws).createBucket()
        try await SESNotifier(fromAddress: "exports@acme.example", ledger: InMemoryNotificationLedger(), aws: aws)
            .createIdentity("exports@acme.example")
        let queues = try await SQSQueue.createQueues(named: "exports", aws: aws)
        environment["EXPORT_QUEUE_URL"] = queues.queueURL
        environment["EXPORT_DLQ_URL"] = queues.deadLetterQueueURL
        let source = try HTTPMembershipSource(configuration: .init(
            urlTemplate: "\(host.baseURL.absoluteString)/users/{owner}/memberships", bearerToken: "fixture-token"))

        let (service, worker) = try makeAWSExport(environment: environment, source: source)
        let owner = UserID(rawValue: "user-docs")
        let ticket = try await service.request(ExportRequest(owner: owner, recipient: EmailAddress("docs@example.com")!, format: "csv"))
        var rounds = 0
        while try await service.status(of: ticket.job.id, requester: owner).state != .succeeded, rounds < 20 {
            try await worker.processAvailable()
            rounds += 1
        }
        let job = try await service.status(of: ticket.job.id, requester: owner)
        #expect(job.state == .succeeded)
        #expect(job.result?.rows == 7)
        #expect(job.result?.blobKey.rawValue.hasPrefix("exports/") == true)
    }
}
