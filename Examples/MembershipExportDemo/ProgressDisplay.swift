import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A live progress bar on a terminal, plain lines (every 10%) otherwise.
final class ProgressDisplay: @unchecked Sendable {
    private let quiet: Bool
    private let isTerminal = isatty(STDOUT_FILENO) == 1
    private var lastDecile = -1
    private var barShown = false

    init(quiet: Bool) { self.quiet = quiet }

    func line(_ text: String) {
        guard !quiet else { return }
        if barShown { Swift.print("") }
        barShown = false
        Swift.print(text)
        fflush(nil)
    }

    func progress(done: Int, total: Int, rows: Int64, retried: Int) {
        guard !quiet, total > 0 else { return }
        let fraction = Double(done) / Double(total)
        if isTerminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            Swift.print("\r\(bar) \(done)/\(total) jobs  \(Summary.grouped(rows)) rows  \(retried) retries   ", terminator: "")
            fflush(nil)
            barShown = true
        } else {
            let decile = Int(fraction * 10)
            if decile != lastDecile {
                lastDecile = decile
                Swift.print("progress: \(done)/\(total) jobs finished, \(rows) rows, \(retried) retries")
                fflush(nil)
            }
        }
    }

    func finish() {
        if barShown { Swift.print("") }
        barShown = false
    }
}
