// An export worker on AWS: SQS for jobs, DynamoDB for records, S3 for files, SES for e-mails, and the
// host's memberships API over HTTP. Run as many copies as you like; they share the work.
//
// Configuration comes from the environment:
//   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, [AWS_SESSION_TOKEN], AWS_REGION, [AWS_ENDPOINT_URL]
//   EXPORT_TABLE, EXPORT_BUCKET, EXPORT_QUEUE_URL, EXPORT_DLQ_URL, EXPORT_SENDER
//   MEMBERSHIPS_URL_TEMPLATE (with {owner}), [MEMBERSHIPS_TOKEN]
//   [EXPORT_IDLE_EXIT_SECONDS]  exit after this long without work (for batch runs and tests);
//                               without it the worker runs until SIGTERM or SIGINT.
//   [EXPORT_RECONCILE_SECONDS]  how often this process runs the Reconciler (requeues jobs recorded but
//                               never queued or whose worker died, deletes expired jobs and files,
//                               aborts abandoned uploads); 300 by default, 0 turns it off (when
//                               another process reconciles). Passes from several workers are safe.
import Dispatch
import ExportAdapters
import ExportCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

let environment = ProcessInfo.processInfo.environment

func setting(_ name: String) -> String {
    guard let value = environment[name], !value.isEmpty else {
        FileHandle.standardError.write(Data("export-aws-worker: set \(name)\n".utf8))
        exit(64)
    }
    return value
}

do {
    let aws = try AWSConfiguration.fromEnvironment(environment)
    let backend = try AWSBackend(
        aws: aws, table: setting("EXPORT_TABLE"), files: .init(bucket: setting("EXPORT_BUCKET")),
        queue: .init(queueURL: setting("EXPORT_QUEUE_URL"), deadLetterQueueURL: setting("EXPORT_DLQ_URL")),
        sender: try EmailAddress(validating: setting("EXPORT_SENDER")))
    let source = try HTTPMembershipSource(configuration: .init(
        urlTemplate: setting("MEMBERSHIPS_URL_TEMPLATE"), bearerToken: environment["MEMBERSHIPS_TOKEN"]))
    let worker = try ExportWorker(
        ports: backend.ports, source: source, configuration: .init(concurrency: 2, receiveWaitTime: .seconds(1)))

    let reconcileEvery = environment["EXPORT_RECONCILE_SECONDS"].flatMap(Double.init) ?? 300
    let reconciler = try Reconciler(ports: backend.ports)
    let reconciling = Task {
        guard reconcileEvery > 0, reconcileEvery.isFinite else { return }
        while !Task.isCancelled {
            do {
                let report = try await reconciler.reconcile()
                if !report.requeued.isEmpty || !report.expired.isEmpty || report.abortedWrites > 0 {
                    print("export-aws-worker: reconciled: \(report.requeued.count) requeued, "
                        + "\(report.expired.count) expired, \(report.abortedWrites) writes aborted")
                }
            } catch {
                FileHandle.standardError.write(Data("export-aws-worker: reconcile failed: \(error)\n".utf8))
            }
            do { try await Task.sleep(for: .seconds(min(reconcileEvery, 86_400))) } catch { return }
        }
    }
    defer { reconciling.cancel() }

    if let idle = environment["EXPORT_IDLE_EXIT_SECONDS"].flatMap(Double.init) {
        var handled = 0
        var lastWork = Date()
        while Date().timeIntervalSince(lastWork) < idle {
            let count = try await worker.processAvailable()
            handled += count
            if count > 0 { lastWork = Date() } else { try await Task.sleep(for: .milliseconds(200)) }
        }
        print("export-aws-worker: handled \(handled) deliveries")
    } else {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let stop = { worker.shutdown() }
        let term = DispatchSource.makeSignalSource(signal: SIGTERM)
        term.setEventHandler { stop() }
        term.resume()
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT)
        interrupt.setEventHandler { stop() }
        interrupt.resume()
        try await worker.run()
    }
} catch {
    FileHandle.standardError.write(Data("export-aws-worker: \(error)\n".utf8))
    exit(1)
}
