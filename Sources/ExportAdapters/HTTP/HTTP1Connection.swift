import ExportCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why an exchange on one connection failed, before ``HTTP1Transport`` names the request in an
/// `ExportError`.
enum HTTP1Failure: Error {
    /// The peer closed or reset the connection before a byte of the response: on a kept-alive
    /// connection, the peer had closed it while it was idle, and the request is sent again on a new one.
    case closedBeforeResponse
    /// The peer reset the connection after a part of the response had arrived (or while the request
    /// was going out, once it was all sent).
    case reset
    case timedOut
    case cancelled
    case connect(String)
    case io(String)
    case protocolViolation(HTTP1ProtocolError)
}

/// One TCP connection in non-blocking mode, used by one exchange at a time. Every wait is a `poll`
/// bounded by the exchange's deadline.
final class HTTP1Connection: @unchecked Sendable {
    let descriptor: Int32
    /// Bytes received past the response most recently read; a connection with any is not reused.
    private var buffered: [UInt8] = []
    private var bufferedStart = 0
    /// When the connection went back to the pool.
    var idleSince: ContinuousClock.Instant?

    private var closed = false

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close() }

    /// Closes the descriptor, once. Callers unregister it from the exchange's ``HTTP1Cancellation`` first.
    func close() {
        guard !closed else { return }
        closed = true
        #if canImport(Darwin)
            _ = Darwin.close(descriptor)
        #elseif canImport(Musl)
            _ = Musl.close(descriptor)
        #else
            _ = Glibc.close(descriptor)
        #endif
    }

    /// Connects to `host:port`, trying each address the lookup gives until one answers.
    ///
    /// - Parameters:
    ///   - lookup: Resolves a name; `getaddrinfo` by default (tests put a slow one in its place).
    static func connect(
        host: String, port: Int, deadline: HTTP1Deadline, cancel: HTTP1Cancellation,
        lookup: @escaping @Sendable (String, Int) -> Result<[HTTP1Address], HTTP1Failure> = HTTP1Address.lookup
    ) throws(HTTP1Failure) -> HTTP1Connection {
        var lastError = "no address"
        for address in try HTTP1Address.resolve(host: host, port: port, deadline: deadline.instant, cancel: cancel, lookup: lookup) {
            let descriptor = socket(address.family, address.socketType, address.socketProtocol)
            guard descriptor >= 0 else { lastError = String(cString: strerror(errno)); continue }
            let connection = HTTP1Connection(descriptor: descriptor)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            // Unregistered before `connection` can be released (which closes the descriptor), on every path.
            try cancel.register(descriptor)
            let error: Int32
            do {
                error = try connection.finishConnecting(to: address, deadline: deadline, cancel: cancel)
            } catch {
                cancel.unregister()
                connection.close()
                throw error
            }
            cancel.unregister()
            if error == 0 { return connection }
            lastError = String(cString: strerror(error))
            connection.close()
        }
        throw .connect(lastError)
    }

    /// Starts the non-blocking connect and waits for it.
    ///
    /// - Returns: 0 when connected, otherwise the connect's `errno`.
    private func finishConnecting(to address: HTTP1Address, deadline: HTTP1Deadline, cancel: HTTP1Cancellation) throws(HTTP1Failure) -> Int32 {
        let started = address.withSocketAddress { pointer, length in
            #if canImport(Darwin)
                Darwin.connect(descriptor, pointer, length)
            #elseif canImport(Musl)
                Musl.connect(descriptor, pointer, length)
            #else
                Glibc.connect(descriptor, pointer, length)
            #endif
        }
        if started == 0 { return 0 }
        guard errno == EINPROGRESS else { return errno }
        try wait(for: Int16(POLLOUT), until: deadline, cancel: cancel)
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
        return error
    }

    /// Whether the idle connection can carry a request: the peer has neither closed it nor sent
    /// anything unasked.
    var isReusable: Bool {
        guard bufferedStart == buffered.count else { return false }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }

    /// Sends the head, then the body, with as few calls as the socket buffer allows.
    func send(head: [UInt8], body: [UInt8], deadline: HTTP1Deadline, cancel: HTTP1Cancellation) throws(HTTP1Failure) {
        var sentHead = 0
        var sentBody = 0
        while sentHead < head.count || sentBody < body.count {
            let result: Int = head.withUnsafeBytes { headBytes in
                body.withUnsafeBytes { bodyBytes in
                    var vectors = [iovec](repeating: iovec(), count: 2)
                    var count = 0
                    if sentHead < head.count {
                        vectors[count] = iovec(
                            iov_base: UnsafeMutableRawPointer(mutating: headBytes.baseAddress! + sentHead),
                            iov_len: head.count - sentHead)
                        count += 1
                    }
                    if sentBody < body.count {
                        vectors[count] = iovec(
                            iov_base: UnsafeMutableRawPointer(mutating: bodyBytes.baseAddress! + sentBody),
                            iov_len: body.count - sentBody)
                        count += 1
                    }
                    return vectors.withUnsafeMutableBufferPointer { buffer in
                        var message = msghdr()
                        message.msg_iov = buffer.baseAddress
                        message.msg_iovlen = numericCast(count)
                        return sendmsg(descriptor, &message, Int32(MSG_NOSIGNAL))
                    }
                }
            }
            if result >= 0 {
                if result > 0 { deadline.progressed() }
                let fromHead = min(result, head.count - sentHead)
                sentHead += fromHead
                sentBody += result - fromHead
                continue
            }
            let code = errno
            if try shouldRetry(after: code, waitingFor: Int16(POLLOUT), until: deadline, cancel: cancel) { continue }
            // Some of the request never left: the peer cannot have acted on it.
            if code == EPIPE || code == ECONNRESET { throw .closedBeforeResponse }
            throw .io("send: \(String(cString: strerror(code)))")
        }
    }

    /// Reads one whole response to a request with `method`.
    ///
    /// - Throws: ``HTTP1Failure/closedBeforeResponse`` when the peer closed or reset the connection
    ///   before a byte of it; ``HTTP1Failure/reset`` when it reset the connection later.
    func readResponse(method: String, limits: HTTP1Transport.Limits, deadline: HTTP1Deadline, cancel: HTTP1Cancellation) throws(HTTP1Failure) -> (HTTP1ResponseHead, [UInt8], reusable: Bool) {
        var first = true
        while true {
            let head = try readHead(limit: limits.maximumHeadBytes, first: first, deadline: deadline, cancel: cancel)
            first = false
            if head.status == 101 { throw .protocolViolation(.switchingProtocols) }
            if head.status < 200 { continue }
            let framing: HTTP1ResponseHead.Framing
            do { framing = try head.framing(method: method, limit: limits.maximumBodyBytes) } catch { throw .protocolViolation(error) }
            var body: [UInt8] = []
            var reusable = head.keepsAlive
            switch framing {
            case .none:
                break
            case .length(let length):
                body.reserveCapacity(length)
                try take(length, into: &body, deadline: deadline, cancel: cancel)
            case .chunked:
                try readChunked(into: &body, limit: limits.maximumBodyBytes, deadline: deadline, cancel: cancel)
            case .untilClose:
                reusable = false
                repeat {
                    body.append(contentsOf: buffered[bufferedStart...])
                    bufferedStart = buffered.count
                    guard body.count <= limits.maximumBodyBytes else {
                        throw .protocolViolation(.bodyTooLarge(limit: limits.maximumBodyBytes))
                    }
                } while try fill(deadline: deadline, cancel: cancel)
                // A cancellation shuts the socket down, which reads as the end of the body: what came
                // before it is not the whole body.
                if cancel.isCancelled { throw .cancelled }
            }
            return (head, body, reusable && bufferedStart == buffered.count)
        }
    }

    private func readHead(limit: Int, first: Bool, deadline: HTTP1Deadline, cancel: HTTP1Cancellation) throws(HTTP1Failure) -> HTTP1ResponseHead {
        while true {
            if let end = Self.blankLine(in: buffered, from: bufferedStart) {
                let headBytes = buffered[bufferedStart..<(end - 2)]
                guard end - bufferedStart <= limit else { throw .protocolViolation(.headTooLarge(limit: limit)) }
                bufferedStart = end
                do { return try HTTP1ResponseHead.parse(headBytes) } catch { throw .protocolViolation(error) }
            }
            guard buffered.count - bufferedStart <= limit else { throw .protocolViolation(.headTooLarge(limit: limit)) }
            let before = buffered.count - bufferedStart
            let more: Bool
            do { more = try fill(deadline: deadline, cancel: cancel) } catch .reset {
                if first && before == 0 { throw .closedBeforeResponse }
                throw .reset
            }
            if !more {
                if first && before == 0 { throw .closedBeforeResponse }
                throw .protocolViolation(.closedInsideHead)
            }
        }
    }

    /// The index just past the first CRLF CRLF at or after `start`.
    private static func blankLine(in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 3 < bytes.count {
            if bytes[index + 3] != 0x0A { index += bytes[index + 3] == 0x0D ? 1 : 4; continue }
            if bytes[index] == 0x0D, bytes[index + 1] == 0x0A, bytes[index + 2] == 0x0D { return index + 4 }
            index += 1
        }
        return nil
    }

    /// Moves exactly `count` bytes of the body into `body`, reading straight into it past what is buffered.
    private func take(_ count: Int, into body: inout [UInt8], deadline: HTTP1Deadline, cancel: HTTP1Cancellation) throws(HTTP1Failure) {
        let fromBuffer = min(count, buffered.count - bufferedStart)
        body.append(contentsOf: buffered[bufferedStart..<(bufferedStart + fromBuffer)])
        bufferedStart += fromBuffer
        var remaining = count - fromBuffer
        guard remaining > 0 else { return }
        let start = body.count
        body.append(contentsOf: repeatElement(0, count: remaining))
        var offset = start
        while remaining > 0 {
            let received = body.withUnsafeMutableBytes { bytes in
                recv(descriptor, bytes.baseAddress! + offset, remaining, 0)
            }
            if received > 0 {
                deadline.progressed()
                offset += received
                remaining -= received
                continue
            }
            if received == 0 {
                throw .protocolViolation(.truncatedBody(expected: count, received: offset - start + fromBuffer))
            }
            let code = errno
            if try shouldRetry(after: code, waitingFor: Int16(POLLIN), until: deadline, cancel: cancel) { continue }
            throw .protocolViolation(.truncatedBody(expected: count, received: offset - start + fromBuffer))
        }
    }

    /// `chunk-size [ext] CRLF data CRLF`… `0 [ext] CRLF` trailers `CRLF` (RFC 9112 §7.1).
    private func readChunked(into body: inout [UInt8], limit: Int, deadline: HTTP1Deadline, cancel: HTTP1Cancellation) throws(HTTP1Failure) {
        while true {
            let line = try readLine(limit: 4_096, deadline: deadline, cancel: cancel)
            let sizeText = line.prefix { $0 != UInt8(ascii: ";") }
            guard !sizeText.isEmpty, sizeText.count <= 15 else { throw .protocolViolation(.malformedChunk) }
            var size = 0
            for byte in sizeText {
                let digit: Int
                switch byte {
                case 0x30...0x39: digit = Int(byte - 0x30)
                case 0x41...0x46: digit = Int(byte - 0x41 + 10)
                case 0x61...0x66: digit = Int(byte - 0x61 + 10)
                default: throw .protocolViolation(.malformedChunk)
                }
                size = size * 16 + digit
            }
            if size == 0 {
                while try !readLine(limit: 8_192, deadline: deadline, cancel: cancel).isEmpty {}
                return
            }
            guard body.count + size <= limit else { throw .protocolViolation(.bodyTooLarge(limit: limit)) }
            try take(size, into: &body, deadline: deadline, cancel: cancel)
            guard try readLine(limit: 0, deadline: deadline, cancel: cancel).isEmpty else { throw .protocolViolation(.malformedChunk) }
        }
    }

    /// One CRLF-ended line, without its CRLF.
    private func readLine(limit: Int, deadline: HTTP1Deadline, cancel: HTTP1Cancellation) throws(HTTP1Failure) -> [UInt8] {
        while true {
            if let newline = buffered[bufferedStart...].firstIndex(of: 0x0A) {
                guard newline > bufferedStart, buffered[newline - 1] == 0x0D, newline - 1 - bufferedStart <= limit else {
                    throw .protocolViolation(.malformedChunk)
                }
                let line = Array(buffered[bufferedStart..<(newline - 1)])
                bufferedStart = newline + 1
                return line
            }
            guard buffered.count - bufferedStart <= limit + 1 else { throw .protocolViolation(.malformedChunk) }
            guard try fill(deadline: deadline, cancel: cancel) else { throw .protocolViolation(.malformedChunk) }
        }
    }

    /// Reads what the peer has sent (waiting for some) onto the buffer.
    ///
    /// - Returns: `false` at the end of the stream.
    private func fill(deadline: HTTP1Deadline, cancel: HTTP1Cancellation) throws(HTTP1Failure) -> Bool {
        if bufferedStart > 0 {
            buffered.removeSubrange(..<bufferedStart)
            bufferedStart = 0
        }
        let chunk = 65_536
        while true {
            let old = buffered.count
            buffered.append(contentsOf: repeatElement(0, count: chunk))
            let received = buffered.withUnsafeMutableBytes { bytes in recv(descriptor, bytes.baseAddress! + old, chunk, 0) }
            buffered.removeLast(chunk - max(0, received))
            if received > 0 {
                deadline.progressed()
                return true
            }
            if received == 0 { return false }
            let code = errno
            if try shouldRetry(after: code, waitingFor: Int16(POLLIN), until: deadline, cancel: cancel) { continue }
            // Whether nothing of the response had come yet is for the caller to say.
            if code == ECONNRESET { throw .reset }
            throw .io("recv: \(String(cString: strerror(code)))")
        }
    }

    /// What to do after a socket call failed with `code`: `true` to call again (after waiting for
    /// `events` when the socket would block), `false` when the failure is the call's own.
    ///
    /// - Throws: ``HTTP1Failure/cancelled`` when the exchange was cancelled (its socket was shut down
    ///   under the call), or what ``wait(for:until:cancel:)`` throws.
    private func shouldRetry(after code: Int32, waitingFor events: Int16, until deadline: HTTP1Deadline, cancel: HTTP1Cancellation) throws(HTTP1Failure) -> Bool {
        if code == EINTR { return true }
        if code == EAGAIN || code == EWOULDBLOCK {
            try wait(for: events, until: deadline, cancel: cancel)
            return true
        }
        if cancel.isCancelled { throw .cancelled }
        return false
    }

    /// Waits until the socket is ready for `events`, the deadline passes or the exchange is cancelled.
    private func wait(for events: Int16, until deadline: HTTP1Deadline, cancel: HTTP1Cancellation) throws(HTTP1Failure) {
        while true {
            if cancel.isCancelled { throw .cancelled }
            let left = deadline.instant - ContinuousClock.now
            guard left > .zero else { throw .timedOut }
            let (seconds, attoseconds) = left.components
            let milliseconds = min(Int64(Int32.max), seconds * 1_000 + attoseconds / 1_000_000_000_000_000 + 1)
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(milliseconds))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw .io("poll: \(String(cString: strerror(errno)))") }
        }
    }
}
