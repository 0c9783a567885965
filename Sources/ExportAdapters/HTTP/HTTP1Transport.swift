import ExportCore
import Foundation
import Synchronization

/// An ``HTTPTransport`` that speaks HTTP/1.1 itself over TCP to `http://` peers, keeping connections
/// alive between requests, and hands `https://` requests to another transport (``URLSessionTransport``
/// by default), because this package has no TLS of its own.
///
/// It exists for large bodies to plaintext peers: an S3-compatible store on a private network
/// (MinIO, a local moto_server or LocalStack) or a sidecar. On Linux, URLSession (libcurl underneath)
/// asks for a request body 64 KiB at a time and rearms a dispatch timer for every piece; this transport
/// hands the socket the head and the whole body in one `sendmsg` and waits with `poll`, so an 8 MiB
/// part costs a few system calls instead of a few thousand.
///
/// - Each exchange runs on a thread of its own (blocking calls never hold a cooperative thread), and
///   fails with `ExportError.Code.timeout` once no byte has moved for the request's `timeout` (as
///   URLSession's `timeoutInterval`: a large body that keeps moving is not cut off). Cancelling the
///   task shuts the socket down and throws `CancellationError`.
/// - Responses are parsed strictly (RFC 9112): a malformed status line or header, a conflicting or
///   malformed length, an unsupported transfer coding, a body cut short or one above
///   ``Limits/maximumBodyBytes`` throw `ExportError.Code.unavailable` naming what was wrong; nothing
///   is truncated silently.
/// - A request sent on a kept-alive connection that the peer had closed while it sat idle is sent once
///   more on a new connection; any other failure is thrown, and the caller's retry policy decides.
/// - Like ``URLSessionTransport``, a body without a `Content-Type` is sent as
///   `application/octet-stream`; `Host`, `Content-Length` and `Connection` are the transport's own.
public final class HTTP1Transport: HTTPTransport {
    /// Bounds on what a peer may send back.
    public struct Limits: Sendable {
        /// The longest status line and header section accepted, in bytes.
        public var maximumHeadBytes: Int
        /// The longest body accepted, in bytes.
        public var maximumBodyBytes: Int

        /// Creates limits.
        ///
        /// - Parameters:
        ///   - maximumHeadBytes: The longest head accepted; 64 KiB by default.
        ///   - maximumBodyBytes: The longest body accepted; 1 GiB by default (the adapters read large
        ///     objects in bounded ranges).
        public init(maximumHeadBytes: Int = 65_536, maximumBodyBytes: Int = 1 << 30) {
            self.maximumHeadBytes = maximumHeadBytes
            self.maximumBodyBytes = maximumBodyBytes
        }
    }

    /// What the transport accepts from peers.
    public let limits: Limits
    /// How many idle connections are kept per host and port.
    public let maximumIdleConnectionsPerPeer: Int
    /// How long an idle connection is kept before it is closed instead of reused.
    public let idleTimeout: Duration
    private let secure: (any HTTPTransport)?
    /// The default secure transport, made on first use (a `static let` is initialised lazily).
    private static let sharedSecure: any HTTPTransport = URLSessionTransport()
    private let idle = Mutex<[String: [HTTP1Connection]]>([:])
    private let opened = Atomic<Int>(0)

    /// Creates a transport.
    ///
    /// - Parameters:
    ///   - limits: Bounds on what a peer may send back.
    ///   - maximumIdleConnectionsPerPeer: Idle connections kept per host and port; 16 by default.
    ///   - idleTimeout: How long an idle connection may wait for its next request; 20 seconds by
    ///     default, below the usual servers' keep-alive timeouts.
    ///   - secureTransport: Where `https://` requests go; `nil` (the default) for one
    ///     ``URLSessionTransport`` shared by the process, made at the first `https://` request (so a
    ///     process that speaks only `http://` runs no URLSession at all).
    public init(
        limits: Limits = Limits(), maximumIdleConnectionsPerPeer: Int = 16, idleTimeout: Duration = .seconds(20),
        secureTransport: (any HTTPTransport)? = nil
    ) {
        self.limits = limits
        self.maximumIdleConnectionsPerPeer = max(0, maximumIdleConnectionsPerPeer)
        self.idleTimeout = idleTimeout
        secure = secureTransport
    }

    /// How many connections this transport has opened, for tests of reuse.
    var openedConnections: Int { opened.load(ordering: .relaxed) }

    /// Sends one request.
    ///
    /// - Parameters:
    ///   - request: The request.
    /// - Returns: The response, whatever its status.
    /// - Throws: `ExportError.Code.timeout` or `ExportError.Code.unavailable` (retryable) when no
    ///   whole response arrived; `ExportError.Code.configuration` for a URL this transport cannot
    ///   reach; `ExportError.Code.invalidRequest` for a method or header that cannot be sent;
    ///   `CancellationError` when the task was cancelled.
    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        switch request.url.scheme?.lowercased() {
        case "https": return try await (secure ?? Self.sharedSecure).send(request)
        case "http": break
        default:
            throw ExportError(.configuration, "\(request.method) \(URLSessionTransport.redacted(request.url)) is neither http nor https")
        }
        let target = try HTTP1Target(request.url)
        let head = try Self.head(of: request, target: target)
        let start = ContinuousClock.now
        let cancellation = HTTP1Cancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<TransportResponse, any Error>) in
                let thread = Thread {
                    continuation.resume(with: Result {
                        try self.exchange(
                            request, target: target, head: head, deadline: HTTP1Deadline(timeout: request.timeout, start: start),
                            cancellation: cancellation)
                    })
                }
                thread.start()
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// One exchange, blocking: on an idle connection when there is one, again on a new connection when
    /// the idle one turns out to have been closed by the peer.
    private func exchange(
        _ request: TransportRequest, target: HTTP1Target, head: [UInt8], deadline: HTTP1Deadline,
        cancellation: HTTP1Cancellation
    ) throws -> TransportResponse {
        var mayReuse = true
        while true {
            if cancellation.isCancelled { throw CancellationError() }
            let pooled = mayReuse ? takeIdle(target.key) : nil
            let connection: HTTP1Connection
            if let pooled {
                connection = pooled
            } else {
                do {
                    connection = try HTTP1Connection.connect(host: target.host, port: target.port, deadline: deadline, cancel: cancellation)
                } catch {
                    throw map(error, request, cancellation)
                }
                opened.add(1, ordering: .relaxed)
            }
            var sent = false
            do throws(HTTP1Failure) {
                try cancellation.register(connection.descriptor)
                try connection.send(head: head, body: request.body, deadline: deadline, cancel: cancellation)
                sent = true
                let (responseHead, body, reusable) = try connection.readResponse(
                    method: request.method, limits: limits, deadline: deadline, cancel: cancellation)
                cancellation.unregister()
                // Cancelled after the last read: the response may be whole, but the caller asked for none.
                if cancellation.isCancelled { throw HTTP1Failure.cancelled }
                if reusable { putIdle(connection, target.key) } else { connection.close() }
                return TransportResponse(status: responseHead.status, headers: responseHead.headers, body: body)
            } catch .closedBeforeResponse where pooled != nil && (!sent || Self.isIdempotent(request.method)) {
                // The idle connection had been closed by the peer. A request that did not all go out
                // cannot have been acted on; one that did may have been, and only an idempotent one
                // is sent again (RFC 9110 §9.2.2).
                cancellation.unregister()
                connection.close()
                mayReuse = false
                dropIdle(target.key)
            } catch {
                cancellation.unregister()
                connection.close()
                throw map(error, request, cancellation)
            }
        }
    }

    /// Whether a request may be sent twice with the effect of once (RFC 9110 §9.2.2).
    static func isIdempotent(_ method: String) -> Bool {
        ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"].contains(method)
    }

    private func takeIdle(_ key: String) -> HTTP1Connection? {
        let now = ContinuousClock.now
        while true {
            let candidate = idle.withLock { $0[key]?.popLast() }
            guard let candidate else { return nil }
            if let since = candidate.idleSince, now - since < idleTimeout, candidate.isReusable {
                candidate.idleSince = nil
                return candidate
            }
            candidate.close()
        }
    }

    /// Puts `connection` back in the pool, and closes the peer's idle connections that have waited
    /// past ``idleTimeout`` (the oldest are first in the list).
    private func putIdle(_ connection: HTTP1Connection, _ key: String) {
        let now = ContinuousClock.now
        connection.idleSince = now
        let (kept, expired) = idle.withLock { idle -> (Bool, [HTTP1Connection]) in
            var list = idle[key, default: []]
            let stale = list.prefix { ($0.idleSince.map { now - $0 >= idleTimeout }) ?? true }
            let expired = Array(stale)
            list.removeFirst(expired.count)
            let kept = list.count < maximumIdleConnectionsPerPeer
            if kept { list.append(connection) }
            idle[key] = list
            return (kept, expired)
        }
        for old in expired { old.close() }
        if !kept { connection.close() }
    }

    private func dropIdle(_ key: String) {
        let dropped = idle.withLock { $0.removeValue(forKey: key) } ?? []
        for connection in dropped { connection.close() }
    }

    private func map(_ failure: HTTP1Failure, _ request: TransportRequest, _ cancellation: HTTP1Cancellation) -> any Error {
        // A cancelled exchange's socket was shut down under it: whatever the calls then saw is the cancellation.
        if cancellation.isCancelled { return CancellationError() }
        let target = "\(request.method) \(URLSessionTransport.redacted(request.url))"
        switch failure {
        case .cancelled: return CancellationError()
        case .timedOut: return ExportError(.timeout, "\(target) timed out: nothing moved for \(request.timeout)")
        case .closedBeforeResponse: return ExportError(.unavailable, "\(target) failed: the peer closed the connection without a response")
        case .reset: return ExportError(.unavailable, "\(target) failed: the peer reset the connection before the whole response")
        case .connect(let reason): return ExportError(.unavailable, "\(target) failed: cannot connect: \(reason)")
        case .io(let reason): return ExportError(.unavailable, "\(target) failed: \(reason)")
        case .protocolViolation(let violation):
            return ExportError(.unavailable, "\(target) failed: the peer sent \(violation)")
        }
    }

    /// The request line and headers.
    static func head(of request: TransportRequest, target: HTTP1Target) throws -> [UInt8] {
        let method = request.method
        guard !method.isEmpty, method.utf8.allSatisfy(HTTP1ResponseHead.isTokenByte) else {
            throw ExportError(.invalidRequest, "the method \(method.debugDescription) is not an HTTP token")
        }
        var host = target.hostHeader
        var lines = ""
        var hasContentType = false
        for (name, value) in request.headers {
            guard !name.isEmpty, name.utf8.allSatisfy(HTTP1ResponseHead.isTokenByte) else {
                throw ExportError(.invalidRequest, "the header name \(name.debugDescription) is not an HTTP token")
            }
            guard value.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
                throw ExportError(.invalidRequest, "the header \(name) has a control character in its value")
            }
            switch name.lowercased() {
            case "host": host = value
            case "content-length", "connection", "transfer-encoding", "keep-alive": continue
            case "content-type":
                hasContentType = true
                lines += "\(name): \(value)\r\n"
            default: lines += "\(name): \(value)\r\n"
            }
        }
        var text = "\(method) \(target.requestTarget) HTTP/1.1\r\nHost: \(host)\r\n" + lines
        if !request.body.isEmpty || ["PUT", "POST", "PATCH"].contains(method) {
            if !hasContentType { text += "Content-Type: application/octet-stream\r\n" }
            text += "Content-Length: \(request.body.count)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }
}

/// Where an `http://` URL points: the address to connect to, the `Host` header and the request target,
/// taken from the URL's text as it is (already percent-encoded, as it was signed).
struct HTTP1Target {
    var host: String
    var port: Int
    var hostHeader: String
    var requestTarget: String
    var key: String { "\(host):\(port)" }

    init(_ url: URL) throws {
        let text = url.absoluteString
        let redacted = URLSessionTransport.redacted(url)
        guard let schemeEnd = text.range(of: "://"), let host = url.host, !host.isEmpty else {
            throw ExportError(.configuration, "\(redacted) has no host")
        }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard !rest[..<authorityEnd].contains("@") else {
            throw ExportError(.configuration, "\(redacted) carries credentials in its authority, which this transport does not send")
        }
        var target = String(rest[authorityEnd...])
        if let fragment = target.firstIndex(of: "#") { target = String(target[..<fragment]) }
        if !target.hasPrefix("/") { target = "/" + target }
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ExportError(.configuration, "\(redacted) has characters that must be percent-encoded")
        }
        let port = url.port ?? 80
        guard (1...65_535).contains(port) else { throw ExportError(.configuration, "\(redacted) has port \(port)") }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = port
        let bracketed = self.host.contains(":") ? "[\(self.host)]" : self.host
        hostHeader = port == 80 ? bracketed : "\(bracketed):\(port)"
        requestTarget = target
    }
}
