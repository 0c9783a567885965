import ExportCore
import Foundation

/// The AWS adapters under one value: DynamoDB for jobs (and the e-mail ledger, in the same table), SQS
/// for the queue and its dead-letter queue, S3 for files, SES for e-mails.
///
/// ```swift
/// let backend = try AWSBackend(
///     aws: try AWSConfiguration.fromEnvironment(ProcessInfo.processInfo.environment),
///     table: "exports", files: .init(bucket: "exports-files"),
///     queue: .init(queueURL: queueURL, deadLetterQueueURL: deadLetterURL),
///     sender: try EmailAddress(validating: "exports@example.com"))
/// let worker = try ExportWorker(ports: backend.ports, source: memberships)
/// ```
public struct AWSBackend: Sendable {
    /// Jobs, in the DynamoDB table.
    public let jobStore: DynamoDBJobStore
    /// The SQS queue.
    public let queue: SQSQueue
    /// Files, in the S3 bucket.
    public let blobStore: S3BlobStore
    /// E-mails through SES, recorded once each in the table's ledger.
    public let notifier: SESNotifier
    /// Schedules, in the jobs table.
    public let scheduleStore: DynamoDBScheduleStore
    /// The workers' pause switch, one item in the jobs table.
    public let workerControl: DynamoDBWorkerControlStore
    /// The ports, for `ExportService`, `ExportWorker` and `Reconciler`.
    public let ports: ExportPorts

    /// Creates the adapters.
    ///
    /// - Parameters:
    ///   - aws: Region, credentials and endpoint.
    ///   - table: The DynamoDB table of jobs and of the notification ledger.
    ///   - files: The S3 bucket of files, its key prefix and encryption.
    ///   - queue: The SQS queue's and its dead-letter queue's URLs.
    ///   - sender: The e-mails' sender, verified in SES.
    ///   - transport: The HTTP client; one ``HTTP1Transport`` for every adapter by default (`https://` through URLSession).
    ///   - clock: The clock of every adapter; the system clock by default.
    ///   - observer: Receives every event; none by default.
    ///   - settings: The shared settings.
    /// - Throws: `ExportError.Code.configuration` for a bucket name S3 refuses.
    public init(
        aws: AWSConfiguration,
        table: String,
        files: S3BlobStore.Configuration,
        queue: SQSQueue.Configuration,
        sender: EmailAddress,
        transport: any HTTPTransport = HTTP1Transport(),
        clock: any ExportClock = SystemClock(),
        observer: any ExportObserver = NoObserver(),
        settings: ExportSettings = ExportSettings()
    ) throws(ExportError) {
        jobStore = DynamoDBJobStore(tableName: table, aws: aws, transport: transport, clock: clock)
        self.queue = SQSQueue(configuration: queue, aws: aws, transport: transport, clock: clock)
        blobStore = try S3BlobStore(configuration: files, aws: aws, transport: transport, clock: clock)
        notifier = SESNotifier(
            fromAddress: sender.rawValue,
            ledger: DynamoDBNotificationLedger(tableName: table, aws: aws, transport: transport, clock: clock),
            aws: aws, transport: transport, clock: clock)
        scheduleStore = DynamoDBScheduleStore(tableName: table, aws: aws, transport: transport, clock: clock)
        workerControl = DynamoDBWorkerControlStore(tableName: table, aws: aws, transport: transport, clock: clock)
        ports = ExportPorts(
            jobStore: jobStore, queue: self.queue, blobStore: blobStore, notifier: notifier, clock: clock, observer: observer, settings: settings,
            scheduleStore: scheduleStore, workerControl: workerControl)
    }
}
