import ExportAdapters
import ExportCore
import Foundation

/// `membership-export-demo reconcile`: the reconciler's repairs on an existing data directory, pass
/// after pass until one finds nothing to do, then exit. What a cron job of a host would run; the
/// expiry crash test kills these processes at random moments and starts new ones.
struct ReconcileMode {
    let options: DemoOptions
    let backend: DemoBackend

    /// The wall clock moved forward by a fixed offset: "as if N days had passed".
    struct ShiftedClock: ExportClock {
        let offset: TimeInterval
        func now() -> Date { Date().addingTimeInterval(offset) }
        func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
    }

    func run() async throws {
        var ports = backend.ports(observer: ClosureObserver { event in
            if event.name == .reconcileFailed || event.name == .notificationPending || event.name == .corruptRecord {
                FileHandle.standardError.write(Data("warning: \(event)\n".utf8))
            }
        })
        ports.clock = ShiftedClock(offset: TimeInterval(options.daysLater) * 86_400)
        let reconciler = try Reconciler(ports: ports, configuration: .init(batchSize: options.batchSize))
        var total = Reconciler.Report()
        while true {
            let report = try await reconciler.reconcile()
            total.requeued += report.requeued
            total.notified += report.notified
            total.expired += report.expired
            total.purged += report.purged
            total.abortedWrites += report.abortedWrites
            if report.isEmpty { break }
        }
        print(
            "reconciled \(options.dataDirectory): \(total.requeued.count) requeued, \(total.notified.count) pending e-mails sent, "
                + "\(total.expired.count) expired, \(total.purged.count) tombstones purged, \(total.abortedWrites) abandoned writes aborted")
    }
}
