import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP server on 127.0.0.1 that answers each request with bytes a test writes by hand, so the
/// tests of ``HTTP1Transport`` can send what no well-behaved server would: cut bodies, bad heads,
/// silence, a close at the wrong moment. It reads each request's head and its `Content-Length` body,
/// records them, and replies as `respond` says.
final class ScriptedHTTPServer: @unchecked Sendable {
    /// What to do with one request.
    enum Reply: Sendable {
        /// Send these bytes and wait for the next request on the connection.
        case send([UInt8])
        /// Send these bytes, then close the connection.
        case sendAndClose([UInt8])
        /// Send nothing, ever (until the server stops).
        case silence
        /// Send these bytes, then nothing more (until the server stops).
        case sendThenSilence([UInt8])
        /// Send these bytes, then reset the connection (`SO_LINGER` of zero, then close: a TCP RST).
        case sendThenReset([UInt8])
        /// Send these bytes in `pieces` parts with a pause after each but the last, then wait for the
        /// next request.
        case trickle([UInt8], pieces: Int, pause: Duration)
    }

    /// One received request.
    struct Received: Sendable {
        var head: String
        var body: [UInt8]
        /// Which accepted connection it came on, from 0.
        var connection: Int

        func header(_ name: String) -> String? {
            for line in head.split(separator: "\r\n").dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == name.lowercased() { return parts[1].trimmingCharacters(in: .whitespaces) }
            }
            return nil
        }
    }

    let port: Int
    private let listener: Int32
    private let respond: @Sendable (_ index: Int, Received) -> Reply
    private let state = Mutex<(received: [Received], connections: [Int32], accepted: Int, stopped: Bool)>(([], [], 0, false))

    /// Starts listening.
    ///
    /// - Parameters:
    ///   - respond: The reply to the request numbered `index` (from 0, over all connections).
    init(respond: @escaping @Sendable (_ index: Int, Received) -> Reply) throws {
        self.respond = respond
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        listener = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    func url(_ path: String = "/") -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    var received: [Received] { state.withLock { $0.received } }
    var acceptedConnections: Int { state.withLock { $0.accepted } }

    /// Shuts the listener and every open connection down. Each descriptor is closed by the thread
    /// that uses it, and one still open is shut down under the lock its closing takes, so a stop never
    /// touches a descriptor number that another test's socket has taken since (tests run in parallel).
    func stop() {
        state.withLock { state in
            state.stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
            for connection in state.connections { shutdown(connection, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        defer { state.withLock { _ in _ = close(listener) } }
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            let number = state.withLock { state -> Int? in
                if state.stopped { return nil }
                state.connections.append(connection)
                state.accepted += 1
                return state.accepted - 1
            }
            guard let number else {
                close(connection)
                return
            }
            let thread = Thread { [self] in serve(connection, number: number) }
            thread.start()
        }
    }

    private func serve(_ connection: Int32, number: Int) {
        var buffer: [UInt8] = []
        defer {
            state.withLock { state in
                state.connections.removeAll { $0 == connection }
                close(connection)
            }
        }
        while true {
            guard let end = readHead(connection, &buffer) else { return }
            let head = String(decoding: buffer[..<end], as: UTF8.self)
            buffer.removeSubrange(..<(end + 4))
            var request = Received(head: head, body: [], connection: number)
            let length = Int(request.header("content-length") ?? "0") ?? 0
            while buffer.count < length {
                guard receive(connection, &buffer) else { return }
            }
            request.body = Array(buffer.prefix(length))
            buffer.removeFirst(length)
            let index = state.withLock { state in
                state.received.append(request)
                return state.received.count - 1
            }
            switch respond(index, request) {
            case .send(let bytes):
                guard sendAll(connection, bytes) else { return }
            case .sendAndClose(let bytes):
                _ = sendAll(connection, bytes)
                return
            case .silence:
                var sink: [UInt8] = []
                while receive(connection, &sink) { sink.removeAll() }
                return
            case .sendThenSilence(let bytes):
                guard sendAll(connection, bytes) else { return }
                var sink: [UInt8] = []
                while receive(connection, &sink) { sink.removeAll() }
                return
            case .trickle(let bytes, let pieces, let pause):
                let size = (bytes.count + pieces - 1) / max(1, pieces)
                var start = 0
                while start < bytes.count {
                    let end = min(bytes.count, start + size)
                    guard sendAll(connection, Array(bytes[start..<end])) else { return }
                    start = end
                    if start < bytes.count { Thread.sleep(forTimeInterval: Double(pause.components.attoseconds) / 1e18 + Double(pause.components.seconds)) }
                }
            case .sendThenReset(let bytes):
                _ = sendAll(connection, bytes)
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                return
            }
        }
    }

    /// The index of the CRLF CRLF that ends the head, reading more as needed; `nil` at the end.
    private func readHead(_ connection: Int32, _ buffer: inout [UInt8]) -> Int? {
        while true {
            if buffer.count >= 4 {
                for index in 0...(buffer.count - 4)
                where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
                    return index
                }
            }
            guard receive(connection, &buffer) else { return nil }
        }
    }

    private func receive(_ connection: Int32, _ buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = recv(connection, &chunk, chunk.count, 0)
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[..<count])
        return true
    }

    private func sendAll(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// A response with a `Content-Length` body.
    static func response(status: Int = 200, headers: [String] = [], body: String = "") -> [UInt8] {
        let lines = ["HTTP/1.1 \(status) Status", "Content-Length: \(body.utf8.count)"] + headers
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }
}
