import ExportAdapters
import ExportCore
import Foundation

/// Where the demo's AWS backend lives: a real account or a local moto_server / LocalStack / MinIO.
struct AWSDemoSettings {
    var endpoint: String?
    var region: String?
    var bucket = "membership-exports"
    var queue = "membership-exports"
    var table = "membership-exports"
    var sender = "exports@example.com"
}

extension DemoBackend {
    /// The AWS adapters: DynamoDB for jobs, SQS for the queue, S3 for files, SES for e-mails. The demo
    /// creates the table, the queues (with a dead-letter queue), the bucket and the sender identity
    /// when they are missing; each of those calls succeeds when the resource already exists.
    static func makeAWS(_ settings: AWSDemoSettings, source: any MembershipSource, owners: [UserID], notes: [String]) async throws -> DemoBackend {
        do {
            return try await connectAWS(settings, source: source, owners: owners, notes: notes)
        } catch let error as ExportError where error.code == .unavailable || error.code == .timeout {
            // The first call failed to reach the service: say so, and what to check, not an NSURLError number.
            let target = settings.endpoint ?? "AWS (region \(settings.region ?? "us-east-1"))"
            let hint = settings.endpoint == nil
                ? "check the network and the region"
                : "is the service running? For a local moto_server: pip install 'moto[server]', then Scripts/demo-aws.sh, which starts and stops it"
            throw DemoError("cannot connect to \(target): \(hint) (\(Self.reason(error)))")
        }
    }

    /// The innermost reason of a connection failure, for the message.
    private static func reason(_ error: ExportError) -> String {
        if let cause = error.cause as? URLError {
            switch cause.code {
            case .cannotConnectToHost: return "connection refused"
            case .timedOut: return "timed out"
            case .cannotFindHost: return "unknown host"
            default: return "URL error \(cause.code.rawValue)"
            }
        }
        let nsError = error.cause.map { $0 as NSError }
        if let nsError, nsError.domain == NSURLErrorDomain, nsError.code == -1004 { return "connection refused" }
        return error.message
    }

    private static func connectAWS(_ settings: AWSDemoSettings, source: any MembershipSource, owners: [UserID], notes: [String]) async throws -> DemoBackend {
        let environment = ProcessInfo.processInfo.environment
        let endpoint = try settings.endpoint.map { text -> URL in
            guard let url = URL(string: text), url.scheme != nil, url.host != nil else { throw DemoError("--endpoint needs a URL such as http://127.0.0.1:4566") }
            return url
        }
        let region = settings.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let aws = AWSConfiguration(credentials: try AWSCredentials.fromEnvironment(environment), region: region, endpoint: endpoint)

        let jobs = DynamoDBJobStore(tableName: settings.table, aws: aws)
        try await jobs.createTable()
        let blobs = try S3BlobStore(configuration: .init(bucket: settings.bucket), aws: aws)
        try await blobs.createBucket()
        let queue = SQSQueue(configuration: try await SQSQueue.createQueues(named: settings.queue, aws: aws), aws: aws)
        let mail = SESNotifier(fromAddress: settings.sender, ledger: DynamoDBNotificationLedger(tableName: settings.table, aws: aws), aws: aws)
        try await mail.createIdentity(settings.sender)

        var notes = notes
        notes.append("aws: region \(region), table \(settings.table), queue \(settings.queue), bucket \(settings.bucket)\(endpoint.map { " at \($0)" } ?? "")")
        if let endpoint { notes.append("moto shows the sent e-mails at \(endpoint.appendingPathComponent("moto-api/data.json"))") }
        var backend = DemoBackend(jobs: jobs, queue: queue, blobs: blobs, notifier: mail, source: source, owners: owners, notes: notes)
        backend.bucket = settings.bucket
        return backend
    }
}
