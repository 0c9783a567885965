@testable import ExportAWS
import ExportCore
import Foundation
import Synchronization
import Testing

/// ``HTTP1Transport`` against a server that sends exactly the bytes each test writes.
@Suite("HTTP/1.1 transport")
struct HTTP1TransportTests {
    static func code(of error: any Error) -> ExportError.Code? { (error as? ExportError)?.code }

    /// Sends one request to a server that answers it with `reply`, and returns the error it threw.
    static func failure(of reply: [UInt8], method: String = "GET", limits: HTTP1Transport.Limits = .init()) async throws -> ExportError {
        let server = try ScriptedHTTPServer { _, _ in .sendAndClose(reply) }
        defer { server.stop() }
        do {
            let response = try await HTTP1Transport(limits: limits).send(TransportRequest(method: method, url: server.url(), timeout: .seconds(5)))
            Issue.record("expected an error, got \(response.status) with \(response.body.count) bytes")
            return ExportError(.unknownColumn, "no error")
        } catch let error as ExportError {
            return error
        }
    }

    @Test("A PUT arrives whole, with Host, Content-Length and Content-Type; the response is read whole")
    func roundTrip() async throws {
        let server = try ScriptedHTTPServer { _, request in
            .send(ScriptedHTTPServer.response(status: 201, headers: ["X-Seen: \(request.body.count)", "ETag: \"abc\""], body: "stored"))
        }
        defer { server.stop() }
        let body = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let response = try await HTTP1Transport().send(TransportRequest(
            method: "PUT", url: server.url("/bucket/a%20b.bin?partNumber=1&uploadId=x%2By"),
            headers: [("X-Amz-Date", "20261204T000000Z")], body: body))
        #expect(response.status == 201)
        #expect(response.header("x-seen") == "3000000")
        #expect(response.header("etag") == "\"abc\"")
        #expect(response.bodyText == "stored")
        let received = try #require(server.received.first)
        #expect(received.head.hasPrefix("PUT /bucket/a%20b.bin?partNumber=1&uploadId=x%2By HTTP/1.1\r\n"))
        #expect(received.header("host") == "127.0.0.1:\(server.port)")
        #expect(received.header("content-length") == "3000000")
        #expect(received.header("content-type") == "application/octet-stream")
        #expect(received.header("x-amz-date") == "20261204T000000Z")
        #expect(received.body == body)
    }

    @Test("Requests one after another share one kept-alive connection")
    func keepAlive() async throws {
        let server = try ScriptedHTTPServer { index, _ in .send(ScriptedHTTPServer.response(body: "r\(index)")) }
        defer { server.stop() }
        let transport = HTTP1Transport(idleTimeout: .seconds(3600))
        for index in 0..<5 {
            let response = try await transport.send(TransportRequest(method: "GET", url: server.url("/\(index)")))
            #expect(response.bodyText == "r\(index)")
        }
        #expect(server.acceptedConnections == 1)
        #expect(transport.openedConnections == 1)
    }

    @Test("A connection the peer closed while idle is replaced, and the request is not lost")
    func staleConnection() async throws {
        // The first answer closes the connection without saying so; the client finds out when it reuses it.
        let server = try ScriptedHTTPServer { index, _ in
            index == 0 ? .sendAndClose(ScriptedHTTPServer.response(body: "first")) : .send(ScriptedHTTPServer.response(body: "again"))
        }
        defer { server.stop() }
        let transport = HTTP1Transport()
        #expect(try await transport.send(TransportRequest(method: "GET", url: server.url())).bodyText == "first")
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await transport.send(TransportRequest(method: "POST", url: server.url(), body: [1, 2, 3])).bodyText == "again")
        #expect(server.received.count == 2)
        #expect(server.acceptedConnections == 2)
    }

    @Test("A peer that resets a reused connection without answering gets the request once more on a new one")
    func resetOnReuse() async throws {
        // The second request's connection is the first's; the server reads the request and closes
        // without a byte of answer, as a server that timed the idle connection out at that moment.
        let server = try ScriptedHTTPServer { index, _ in
            index == 1 ? .sendAndClose([]) : .send(ScriptedHTTPServer.response(body: "ok\(index)"))
        }
        defer { server.stop() }
        let transport = HTTP1Transport(idleTimeout: .seconds(3600))
        #expect(try await transport.send(TransportRequest(method: "GET", url: server.url())).bodyText == "ok0")
        #expect(try await transport.send(TransportRequest(method: "GET", url: server.url())).bodyText == "ok2")
        #expect(server.received.map(\.connection) == [0, 0, 1])
    }

    @Test("A POST on a reused connection closed without an answer is not sent twice: the peer may have acted on it")
    func postNotResent() async throws {
        let server = try ScriptedHTTPServer { index, _ in
            index == 1 ? .sendAndClose([]) : .send(ScriptedHTTPServer.response(body: "ok\(index)"))
        }
        defer { server.stop() }
        let transport = HTTP1Transport(idleTimeout: .seconds(3600))
        #expect(try await transport.send(TransportRequest(method: "GET", url: server.url())).bodyText == "ok0")
        await #expect {
            try await transport.send(TransportRequest(method: "POST", url: server.url(), body: [1]))
        } throws: { error in Self.code(of: error) == .unavailable && (error as? ExportError)?.isRetryable == true }
        #expect(server.received.count == 2)
        #expect(HTTP1Transport.isIdempotent("PUT") && HTTP1Transport.isIdempotent("DELETE") && !HTTP1Transport.isIdempotent("PATCH"))
    }

    @Test(
        "A reset after part of the response is an error, not an empty answer to send the request again for",
        arguments: [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
            "HTTP/1.0 200 OK\r\n\r\npart of the body",
        ])
    func resetInsideResponse(partial: String) async throws {
        let server = try ScriptedHTTPServer { index, _ in
            index == 1 ? .sendThenReset(Array(partial.utf8)) : .send(ScriptedHTTPServer.response(body: "ok\(index)"))
        }
        defer { server.stop() }
        let transport = HTTP1Transport(idleTimeout: .seconds(3600))
        #expect(try await transport.send(TransportRequest(method: "GET", url: server.url())).bodyText == "ok0")
        await #expect {
            try await transport.send(TransportRequest(method: "GET", url: server.url()))
        } throws: { error in Self.code(of: error) == .unavailable && "\(error)".contains("reset") }
        #expect(server.received.count == 2)
    }

    @Test("A new connection closed without an answer is an error, not a retry")
    func closedWithoutAnswer() async throws {
        let error = try await Self.failure(of: [])
        #expect(error.code == .unavailable)
        #expect(error.isRetryable)
    }

    @Test("A chunked body is decoded, extensions and trailers included")
    func chunked() async throws {
        let reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
        let server = try ScriptedHTTPServer { _, _ in .send(Array(reply.utf8)) }
        defer { server.stop() }
        let transport = HTTP1Transport(idleTimeout: .seconds(3600))
        for _ in 0..<2 {
            #expect(try await transport.send(TransportRequest(method: "GET", url: server.url())).bodyText == "hello 0123456789")
        }
        #expect(server.acceptedConnections == 1, "a chunked response leaves the connection reusable")
    }

    @Test("A body without a length runs to the close, and that connection is not reused")
    func untilClose() async throws {
        let server = try ScriptedHTTPServer { _, _ in .sendAndClose(Array("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of it".utf8)) }
        defer { server.stop() }
        let transport = HTTP1Transport()
        for _ in 0..<2 {
            #expect(try await transport.send(TransportRequest(method: "GET", url: server.url())).bodyText == "all of it")
        }
        #expect(transport.openedConnections == 2)
    }

    @Test("Interim 100 Continue answers are skipped; HEAD, 204 and 304 have no body")
    func noBodies() async throws {
        let server = try ScriptedHTTPServer { index, _ in
            switch index {
            case 0: .send(Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8))
            case 1: .send(Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".utf8))
            case 2: .send(Array("HTTP/1.1 204 No Content\r\n\r\n".utf8))
            default: .send(ScriptedHTTPServer.response(body: "last"))
            }
        }
        defer { server.stop() }
        let transport = HTTP1Transport(idleTimeout: .seconds(3600))
        #expect(try await transport.send(TransportRequest(method: "PUT", url: server.url(), body: [1])).bodyText == "ok")
        let head = try await transport.send(TransportRequest(method: "HEAD", url: server.url()))
        #expect(head.status == 200 && head.body.isEmpty && head.header("content-length") == "1000")
        #expect(try await transport.send(TransportRequest(method: "DELETE", url: server.url())).status == 204)
        #expect(try await transport.send(TransportRequest(method: "GET", url: server.url())).bodyText == "last")
        #expect(server.acceptedConnections == 1)
    }

    @Test(
        "Malformed or over-long answers are typed errors, never a truncated or guessed body",
        arguments: [
            ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "cut off"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "cut off after 3 of 5"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", "malformed chunk"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok", "both Content-Length"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "other than chunked"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok", "Content-Length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok", "Content-Length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nok", "Content-Length"),
            ("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", "status line"),
            ("HTTP/2 200\r\nContent-Length: 0\r\n\r\n", "version"),
            ("ICY 200 OK\r\n\r\n", "status line"),
            ("HTTP/1.1 200 OK\r\nNo-Colon-Here\r\n\r\n", "header line"),
            ("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "header line"),
            ("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", "header line"),
            ("HTTP/1.1 200 OK\nContent-Length: 0\n\n", "inside the response head"),  // bare LFs end no head
            ("HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n", "header line"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", "inside the response head"),
            ("HTTP/1.1 101 Switching Protocols\r\n\r\n", "Switching"),
        ])
    func malformed(reply: String, expected: String) async throws {
        let error = try await Self.failure(of: Array(reply.utf8))
        #expect(error.code == .unavailable)
        #expect(error.message.contains(expected), "\(error.message)")
    }

    @Test("The limits hold: a long head or body is refused, whatever its framing")
    func limits() async throws {
        let limits = HTTP1Transport.Limits(maximumHeadBytes: 200, maximumBodyBytes: 100)
        let longHead = "HTTP/1.1 200 OK\r\nX-Long: \(String(repeating: "a", count: 300))\r\nContent-Length: 0\r\n\r\n"
        #expect(try await Self.failure(of: Array(longHead.utf8), limits: limits).message.contains("head longer than 200"))
        let longBody = "HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n" + String(repeating: "b", count: 101)
        #expect(try await Self.failure(of: Array(longBody.utf8), limits: limits).message.contains("body longer than 100"))
        let longChunks = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "32\r\n\(String(repeating: "c", count: 50))\r\n", count: 3) + "0\r\n\r\n"
        #expect(try await Self.failure(of: Array(longChunks.utf8), limits: limits).message.contains("body longer than 100"))
        let longUntilClose = "HTTP/1.0 200 OK\r\n\r\n" + String(repeating: "d", count: 150)
        #expect(try await Self.failure(of: Array(longUntilClose.utf8), limits: limits).message.contains("body longer than 100"))
    }

    @Test("A silent peer times out at the request's timeout")
    func timeout() async throws {
        let server = try ScriptedHTTPServer { _, _ in .silence }
        defer { server.stop() }
        let start = ContinuousClock.now
        await #expect {
            try await HTTP1Transport().send(TransportRequest(method: "GET", url: server.url(), timeout: .milliseconds(300)))
        } throws: { Self.code(of: $0) == .timeout }
        // Bounded loosely: under the whole suite on two cores, the task may wait long for a thread to
        // resume on. Without the timeout the exchange would wait until the test ends.
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(290) && waited < .seconds(90))
    }

    @Test("The timeout counts from the last byte that moved: a slow body that keeps coming is read whole")
    func timeoutIsIdleTime() async throws {
        let body = String(repeating: "0123456789", count: 10)
        let server = try ScriptedHTTPServer { _, _ in
            .trickle(ScriptedHTTPServer.response(body: body), pieces: 10, pause: .milliseconds(250))
        }
        defer { server.stop() }
        // About 2.25 s in all, never more than 0.25 s without a byte.
        let response = try await HTTP1Transport().send(TransportRequest(method: "GET", url: server.url(), timeout: .milliseconds(1_500)))
        #expect(response.bodyText == body)
    }

    @Test("Cancelling the task wakes the exchange at once")
    func cancellation() async throws {
        let server = try ScriptedHTTPServer { _, _ in .silence }
        defer { server.stop() }
        let start = ContinuousClock.now
        let task = Task { try await HTTP1Transport().send(TransportRequest(method: "GET", url: server.url(), timeout: .seconds(300))) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // Well under the 300-second timeout, loosely bounded as the timeout test is.
        #expect(ContinuousClock.now - start < .seconds(90))
    }

    @Test("Cancelling while a body runs to the close throws, rather than returning the part that came")
    func cancellationInsideBodyToClose() async throws {
        let server = try ScriptedHTTPServer { _, _ in .sendThenSilence(Array("HTTP/1.0 200 OK\r\n\r\nthe first part".utf8)) }
        defer { server.stop() }
        let task = Task { try await HTTP1Transport().send(TransportRequest(method: "GET", url: server.url(), timeout: .seconds(300))) }
        while server.received.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        // Time for the head and the first part to be read, so that the cancellation finds the
        // exchange waiting for the rest of the body (earlier, it would throw as well).
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    /// A lookup that does not answer until the test lets it.
    final class HeldLookup: Sendable {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        var lookup: @Sendable (String, Int) -> Result<[HTTP1Address], HTTP1Failure> {
            { [self] _, _ in
                entered.signal()
                _ = release.wait(timeout: .now() + 60)
                return .failure(.connect("released"))
            }
        }
    }

    @Test("A name lookup that hangs ends at the deadline")
    func lookupTimeout() throws {
        let held = HeldLookup()
        defer { held.release.signal() }
        var failure: HTTP1Failure?
        do {
            _ = try HTTP1Connection.connect(
                host: "slow.invalid", port: 80, deadline: HTTP1Deadline(timeout: .milliseconds(200)), cancel: HTTP1Cancellation(), lookup: held.lookup)
        } catch { failure = error }
        guard case .timedOut? = failure else { Issue.record("expected a timeout, got \(String(describing: failure))"); return }
    }

    @Test("A name lookup that hangs ends when the exchange is cancelled")
    func lookupCancelled() throws {
        let held = HeldLookup()
        defer { held.release.signal() }
        let cancellation = HTTP1Cancellation()
        let canceller = Thread {
            held.entered.wait()
            cancellation.cancel()
        }
        canceller.start()
        var failure: HTTP1Failure?
        do {
            _ = try HTTP1Connection.connect(
                host: "slow.invalid", port: 80, deadline: HTTP1Deadline(timeout: .seconds(60)), cancel: cancellation, lookup: held.lookup)
        } catch { failure = error }
        guard case .cancelled? = failure else { Issue.record("expected a cancellation, got \(String(describing: failure))"); return }
    }

    @Test("Numeric addresses need no lookup")
    func numericAddresses() throws {
        for host in ["127.0.0.1", "::1"] {
            let addresses = try HTTP1Address.resolve(
                host: host, port: 9, deadline: .now + .seconds(5), cancel: HTTP1Cancellation(),
                lookup: { _, _ in .failure(.connect("looked up")) })
            #expect(!addresses.isEmpty)
        }
    }

    @Test("Nothing listening is a retryable unavailable")
    func refused() async throws {
        let server = try ScriptedHTTPServer { _, _ in .silence }
        let url = server.url()
        server.stop()
        try await Task.sleep(for: .milliseconds(50))
        await #expect {
            try await HTTP1Transport().send(TransportRequest(method: "GET", url: url, timeout: .seconds(5)))
        } throws: { error in Self.code(of: error) == .unavailable && (error as? ExportError)?.isRetryable == true }
    }

    @Test("A header that would split the request is refused before anything is sent")
    func headerInjection() async throws {
        let server = try ScriptedHTTPServer { _, _ in .send(ScriptedHTTPServer.response()) }
        defer { server.stop() }
        for headers in [[("X-A", "1\r\nX-Injected: 2")], [("X A", "1")], [("X-A:", "1")]] {
            await #expect {
                try await HTTP1Transport().send(TransportRequest(method: "GET", url: server.url(), headers: headers))
            } throws: { Self.code(of: $0) == .invalidRequest }
        }
        await #expect {
            try await HTTP1Transport().send(TransportRequest(method: "GET /x", url: server.url()))
        } throws: { Self.code(of: $0) == .invalidRequest }
        #expect(server.received.isEmpty)
    }

    @Test("https goes to the secure transport; other schemes and credentials in the URL are refused")
    func schemes() async throws {
        let secure = FaultTransport { _, _ in .respond(TransportResponse(status: 299)) }
        let transport = HTTP1Transport(secureTransport: secure)
        #expect(try await transport.send(TransportRequest(method: "GET", url: URL(string: "https://example.com/x")!)).status == 299)
        #expect(secure.requests.withLock { $0.count } == 1)
        for text in ["ftp://example.com/x", "http://user:secret@127.0.0.1:1/x"] {
            await #expect {
                try await transport.send(TransportRequest(method: "GET", url: URL(string: text)!))
            } throws: { error in
                Self.code(of: error) == .configuration && !"\(error)".contains("secret")
            }
        }
    }

    @Test("The Host header matches what the SigV4 signer signs")
    func hostHeader() throws {
        for text in ["http://127.0.0.1:4566/b", "http://s3.local/b", "http://s3.local:80/b"] {
            let url = URL(string: text)!
            #expect(try HTTP1Target(url).hostHeader == AWSSigner.hostHeader(url), "\(text)")
        }
        #expect(try HTTP1Target(URL(string: "http://h:81?x=1")!).requestTarget == "/?x=1")
        #expect(try HTTP1Target(URL(string: "http://h/a/b?x=%2F#frag")!).requestTarget == "/a/b?x=%2F")
    }
}
