import ExportAdapters
import ExportCore
import Foundation
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
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    private init(process: Process, input: Pipe, port: Int) {
        self.process = process
        self.input = input
        self.port = port
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
        process.standardError = FileHandle.nullDevice
        try process.run()
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
            throw PeerUnavailable(message: "\(script) did not start: \(line.isEmpty ? "no output" : line)")
        }
        let peer = PeerProcess(process: process, input: input, port: port)
        try await peer.waitUntilAnswering()
        return peer
    }

    private func waitUntilAnswering() async throws {
        let transport = URLSessionTransport()
        for _ in 0..<100 {
            let request = HTTPRequest(method: "GET", url: baseURL.appendingPathComponent("moto-api/"), timeout: .seconds(2))
            if (try? await transport.send(request)) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw PeerUnavailable(message: "the peer on port \(port) never answered")
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

struct PeerUnavailable: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
