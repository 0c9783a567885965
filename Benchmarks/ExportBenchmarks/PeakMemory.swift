import Foundation

/// The process's peak resident set size, from Linux's /proc.
enum PeakMemory {
    /// VmHWM in KiB, or 0 where /proc is unavailable.
    static func peakKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.dropFirst(6).split(separator: " ").first ?? "") ?? 0
        }
        return 0
    }

    /// Resets the peak to the current RSS (writing 5 to /proc/self/clear_refs).
    ///
    /// - Returns: Whether the kernel accepted it.
    static func reset() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("5".utf8))
            return true
        } catch {
            return false
        }
    }
}
