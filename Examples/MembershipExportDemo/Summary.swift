import ExportCore
import Foundation

/// The end-of-run table.
struct Summary {
    let jobs: [ExportJob]
    let retried: Int
    let deadLetters: Int
    let elapsed: Duration
    /// Rows exported by this run, for rows/s.
    var rowsThisRun: Int64 = 0

    /// Prints the table (or, with `quiet`, one line) and where the files and e-mails are.
    func print(backend: DemoBackend, quiet: Bool = false) {
        let succeeded = jobs.filter { $0.state == .succeeded }
        let failed = jobs.filter { $0.state == .failed }
        let rows = succeeded.reduce(Int64(0)) { $0 + ($1.result?.rows ?? 0) }
        let bytes = succeeded.reduce(Int64(0)) { $0 + ($1.result?.bytes ?? 0) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let table: [(String, String)] = [
            ("succeeded", "\(succeeded.count)"),
            ("failed", "\(failed.count)"),
            ("retried attempts", "\(retried)"),
            ("dead letters", "\(deadLetters)"),
            ("rows", Self.grouped(rows)),
            ("bytes", Self.grouped(bytes) + " (" + String(format: "%.1f MiB", Double(bytes) / 1_048_576) + ")"),
            ("wall time", String(format: "%.2f s", seconds)),
            ("rows/s", rowsThisRun == 0 ? "– (nothing left to export)" : Self.grouped(Int64(Double(rowsThisRun) / max(seconds, 0.001)))),
        ]
        if quiet {
            Swift.print("\(succeeded.count) succeeded, \(failed.count) failed, \(deadLetters) dead letters, \(Self.grouped(rows)) rows")
            printLocations(backend: backend, failed: failed)
            return
        }
        let width = table.map(\.1.count).max() ?? 10
        Swift.print("")
        Swift.print("┌──────────────────┬─" + String(repeating: "─", count: width) + "─┐")
        for (name, value) in table {
            Swift.print("│ " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + " │ "
                + String(repeating: " ", count: width - value.count) + value + " │")
        }
        Swift.print("└──────────────────┴─" + String(repeating: "─", count: width) + "─┘")
        printLocations(backend: backend, failed: failed)
    }

    private func printLocations(backend: DemoBackend, failed: [ExportJob]) {
        if let files = backend.filesDirectory { Swift.print("files:  \(files.path)") }
        if let bucket = backend.bucket {
            let keys = jobs.compactMap { $0.result?.blobKey.rawValue }.sorted()
            Swift.print("files:  s3://\(bucket)/ (\(keys.count) objects\(keys.first.map { ", e.g. \($0)" } ?? ""))")
        }
        if let outbox = backend.outboxDirectory { Swift.print("e-mails: \(outbox.path) (one .eml per job)") }
        if let reason = failed.first?.failure?.reason { Swift.print("first failure: \(reason)") }
    }

    static func grouped(_ number: Int64) -> String {
        let digits = Array(String(number))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }
}
