import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An example executable run as a real process, its stdout and stderr collected as they come, so a
/// test can wait for a line, send a signal and check how it ended.
final class RunningProcess: @unchecked Sendable {  // Process is thread-safe to query; the rest is in mutexes
    private let process: Process
    private let collected = Mutex("")
    private let ended = Mutex(false)

    init(_ executable: URL, arguments: [String] = [], environment: [String: String]? = nil) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        self.process = process
        try process.run()
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                self.collected.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
            self.ended.withLock { $0 = true }
        }
    }

    var output: String { collected.withLock { $0 } }

    /// Waits (real time: the peer is a real process) until the output contains `text`.
    func waitFor(_ text: String, seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.contains(text) { return true }
            if !process.isRunning && ended.withLock({ $0 }) { return output.contains(text) }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit (killing the process after `seconds`) and returns its status and output.
    func finish(seconds: Double) async throws -> (status: Int32, reason: Process.TerminationReason, output: String) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        while !ended.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        return (process.terminationStatus, process.terminationReason, output)
    }
}
