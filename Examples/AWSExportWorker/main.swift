// An export worker on AWS: SQS for jobs, DynamoDB for records, S3 for files, SES for e-mails, and the
// host's memberships API over HTTP. Run as many copies as you like; they share the work.
// Configuration comes from the environment: see `WorkerSettings.usage` or run with --help.
import ExampleSupport
import ExportAdapters
import ExportCore
import Foundation

let program = "export-aws-worker"
if CommandLine.arguments.dropFirst().contains(where: { $0 == "--help" || $0 == "-h" }) {
    print(WorkerSettings.usage)
    exit(0)
}
if let unknown = CommandLine.arguments.dropFirst().first {
    FileHandle.standardError.write(Data("\(program): unknown argument \(unknown); configuration comes from the environment, see --help\n".utf8))
    exit(64)
}

let settings: WorkerSettings
do {
    settings = try WorkerSettings.from(ProcessInfo.processInfo.environment)
} catch {
    FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
    exit(64)
}

// Credentials are looked up once here, so a process without any stops at once with the list of
// sources tried, rather than failing every request later.
do {
    _ = try await settings.aws.credentialProvider.credentials()
    print("\(program): AWS credentials from \(settings.credentialChain.source ?? "an unnamed source")")
} catch {
    FileHandle.standardError.write(Data("\(program): \(error)\nSee export-aws-worker --help.\n".utf8))
    exit((error as? ExportError)?.isRetryable == true ? 69 : 64)
}

do {
    let log = WorkerLog(program: program)
    let aws = settings.aws
    let jobs = DynamoDBJobStore(tableName: settings.table, aws: aws)
    let queue = SQSQueue(configuration: .init(queueURL: settings.queueURL, deadLetterQueueURL: settings.deadLetterQueueURL), aws: aws)
    let blobs = try S3BlobStore(configuration: .init(bucket: settings.bucket), aws: aws)
    let mail = SESNotifier(fromAddress: settings.sender, ledger: DynamoDBNotificationLedger(tableName: settings.table, aws: aws), aws: aws)
    let source = try HTTPMembershipSource(configuration: settings.source)
    let ports = ExportPorts(jobStore: jobs, queue: queue, blobStore: blobs, notifier: mail, observer: log)
    let lease = Duration.milliseconds(Int64(settings.visibilitySeconds * 1000))
    let worker = try ExportWorker(
        ports: ports, source: source, configuration: .init(concurrency: settings.concurrency, visibilityTimeout: lease, receiveWaitTime: .seconds(1)))
    let reconciler = try Reconciler(
        ports: ports, configuration: .init(requeueAfter: .milliseconds(Int64(settings.requeueSeconds * 1000))))

    print("\(program): region \(aws.region), table \(settings.table), bucket \(settings.bucket), queue \(settings.queueURL)"
        + (aws.endpoint.map { " at \($0)" } ?? ""))
    fflush(nil)
    let reconcileEvery = settings.reconcileSeconds
    let reconciling = Task {
        guard reconcileEvery > 0 else { return }
        while !Task.isCancelled {
            do {
                let report = try await reconciler.reconcile()
                if !report.isEmpty || report.abortedWrites > 0 {
                    print("\(program): reconciled: \(report.requeued.count) requeued, \(report.notified.count) pending e-mails sent, "
                        + "\(report.expired.count) expired, \(report.abortedWrites) writes aborted")
                }
            } catch {
                log.log("reconcile failed: \(error)")
            }
            do { try await Task.sleep(for: .seconds(min(reconcileEvery, 86_400))) } catch { return }
        }
    }
    defer { reconciling.cancel() }

    let signals = StopSignals()
    signals.install(program: program, stopping: [worker])
    if let idle = settings.idleExitSeconds {
        var handled = 0
        var lastWork = Date()
        while Date().timeIntervalSince(lastWork) < idle, signals.requested.withLock({ $0 }) == nil {
            let count = (try? await worker.processAvailable()) ?? 0
            handled += count
            if count > 0 { lastWork = Date() } else { try await Task.sleep(for: .milliseconds(200)) }
        }
        print("\(program): handled \(handled) deliveries")
    } else {
        try await worker.run()
    }
    let handedBack = log.unfinished
    print("\(program): stopped; \(handedBack.isEmpty ? "every running export finished" : "handed back to the queue: \(handedBack.map(\.rawValue).joined(separator: ", "))")")
    exit(0)
} catch {
    FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
    exit(1)
}
