import Foundation
import Synchronization

/// A file that ``FileJobStore`` or ``FileQueue`` could not use and moved to its `corrupt/` directory.
///
/// Every file moved aside is reported once, to the `onCorruptFile` handler given to the adapter, from
/// whichever call met it (a `get`, a listing, a scan, a receive, a dead-letter listing). The calls that
/// only skip the file keep working, so without the report the damage would go unnoticed.
public struct CorruptFileReport: Sendable, Hashable, CustomStringConvertible {
    /// Where the file was.
    public var path: String
    /// Where it is now, under `corrupt/`.
    public var movedTo: String
    /// Why it could not be used.
    public var reason: String

    /// Creates a report.
    ///
    /// - Parameters:
    ///   - path: Where the file was.
    ///   - movedTo: Where it is now.
    ///   - reason: Why it could not be used.
    public init(path: String, movedTo: String, reason: String) {
        self.path = path
        self.movedTo = movedTo
        self.reason = reason
    }

    /// One line for a log: the path, the reason and the new place.
    ///
    /// A record written by a newer version is reported with ``movedTo`` equal to ``path``: it is left in place.
    public var description: String {
        movedTo == path ? "unusable file \(path) (\(reason)) left in place" : "corrupt file \(path) (\(reason)) moved to \(movedTo)"
    }
}

/// Collects reports made under an adapter's lock and delivers them once the lock is released, so a
/// handler may call back into the adapter without deadlocking on its `flock`.
final class CorruptFileReporter: Sendable {
    private let handler: (@Sendable (CorruptFileReport) -> Void)?
    private let pending = Mutex<[CorruptFileReport]>([])

    init(_ handler: (@Sendable (CorruptFileReport) -> Void)?) {
        self.handler = handler
    }

    /// Notes a file that was moved aside.
    func record(_ report: CorruptFileReport) {
        pending.withLock { $0.append(report) }
    }

    /// Calls the handler with every noted report (call with no lock held).
    func flush() {
        let reports = pending.withLock { reports in
            defer { reports.removeAll() }
            return reports
        }
        guard let handler else { return }
        for report in reports { handler(report) }
    }
}
