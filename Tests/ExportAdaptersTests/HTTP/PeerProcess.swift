import ExportAdapters
import ExportCore
import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A helper process (moto_server, the Python fixture server) started by the tests.
///
/// The child prints its port on the first line of stdout and exits when its stdin closes, so it dies
/// with the test process even when a test crashes.
final class PeerProcess: @unchecked Sendable {
    let process: Process
    let input: Pipe
    let port: Int
    /// The last few KiB the child wrote to stderr, for start-up error messages.
    let stderrTail: StderrTail
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    private init(process: Process, input: Pipe, port: Int, stderrTail: StderrTail) {
        self.process = process
        self.input = input
        self.port = port
        self.stderrTail = stderrTail
    }

    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    /// Starts `python3 <script>` with extra environment variables and waits for its port.
    static func start(script: String, environment: [String: String] = [:]) async throws -> PeerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", fixtures.appendingPathComponent(script).path]
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        let errors = Pipe()
        process.standardError = errors
        let tail = StderrTail()
        try process.run()
        // Keep draining stderr (a full pipe would block the child), remembering only its tail.
        Thread.detachNewThread {
            while true {
                let data = errors.fileHandleForReading.availableData
                if data.isEmpty { break }
                tail.append(data)
            }
            tail.ended.signal()
        }
        let line: String = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                var bytes: [UInt8] = []
                while true {
                    let data = output.fileHandleForReading.readData(ofLength: 1)
                    if data.isEmpty || data.first == 0x0A { break }
                    bytes.append(contentsOf: data)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
        guard let port = Int(line) else {
            process.terminate()
            process.waitUntilExit()
            _ = tail.ended.wait(timeout: .now() + 2)
            throw PeerUnavailable(message: "\(script) did not start: \(line.isEmpty ? "no output" : line)\(tail.forMessage)")
        }
        let peer = PeerProcess(process: process, input: input, port: port, stderrTail: tail)
        try await peer.waitUntilAnswering()
        return peer
    }

    private func waitUntilAnswering() async throws {
        let transport = URLSessionTransport()
        for _ in 0..<100 {
            let request = TransportRequest(method: "GET", url: baseURL.appendingPathComponent("moto-api/"), timeout: .seconds(2))
            if (try? await transport.send(request)) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw PeerUnavailable(message: "the peer on port \(port) never answered\(stderrTail.forMessage)")
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

/// The end of a child's stderr, bounded.
final class StderrTail: Sendable {
    private static let limit = 4096
    private let bytes = Mutex<[UInt8]>([])
    /// Signalled when the child closes its stderr.
    let ended = DispatchSemaphore(value: 0)

    func append(_ data: Data) {
        bytes.withLock { bytes in
            bytes += data
            if bytes.count > Self.limit { bytes.removeFirst(bytes.count - Self.limit) }
        }
    }

    /// `"; stderr: …"`, or nothing when the child wrote nothing.
    var forMessage: String {
        let text = bytes.withLock { String(decoding: $0, as: UTF8.self) }.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "" : "; stderr ends with:\n\(text)"
    }
}

struct PeerUnavailable: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
