import ExportCore

/// Why bytes from a peer are not an HTTP/1.1 response this client accepts. Each case names what was
/// wrong; ``HTTP1Transport`` turns it into an `ExportError`.
enum HTTP1ProtocolError: Error, Equatable, CustomStringConvertible {
    case malformedStatusLine
    case unsupportedVersion
    case malformedHeaderLine
    case headTooLarge(limit: Int)
    case malformedContentLength
    case conflictingFraming
    case unsupportedTransferEncoding
    case malformedChunk
    case bodyTooLarge(limit: Int)
    case truncatedBody(expected: Int, received: Int)
    case closedInsideHead
    case switchingProtocols

    var description: String {
        switch self {
        case .malformedStatusLine: "a malformed status line"
        case .unsupportedVersion: "a version other than HTTP/1.0 or HTTP/1.1"
        case .malformedHeaderLine: "a malformed header line"
        case .headTooLarge(let limit): "a response head longer than \(limit) bytes"
        case .malformedContentLength: "a malformed Content-Length"
        case .conflictingFraming: "both Content-Length and Transfer-Encoding"
        case .unsupportedTransferEncoding: "a Transfer-Encoding other than chunked"
        case .malformedChunk: "a malformed chunk"
        case .bodyTooLarge(let limit): "a body longer than \(limit) bytes"
        case .truncatedBody(let expected, let received): "a body cut off after \(received) of \(expected) bytes"
        case .closedInsideHead: "the connection closed inside the response head"
        case .switchingProtocols: "101 Switching Protocols, which was not asked for"
        }
    }
}

/// A parsed status line and header section (RFC 9112 §4 and §5), strictly: CRLF line ends, a
/// three-digit status, token header names with no space before the colon, no obsolete line folding.
struct HTTP1ResponseHead: Equatable {
    /// How the body that follows is delimited (RFC 9112 §6.3).
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        case untilClose
    }

    var minorVersion: Int
    var status: Int
    /// Lower-cased names; repeated fields joined with ", " in arrival order.
    var headers: [String: String]

    /// Parses a head: the bytes up to, not including, the blank line's CRLF that ends it.
    ///
    /// - Parameters:
    ///   - bytes: The status line and header lines, each ending in CRLF.
    /// - Returns: The head.
    /// - Throws: ``HTTP1ProtocolError`` for anything that is not a well-formed head.
    static func parse(_ bytes: ArraySlice<UInt8>) throws(HTTP1ProtocolError) -> HTTP1ResponseHead {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 0x0A {
                guard index > start, bytes[index - 1] == 0x0D else {
                    throw lines.isEmpty ? .malformedStatusLine : .malformedHeaderLine
                }
                lines.append(bytes[start..<(index - 1)])
                start = index + 1
            } else if bytes[index] == 0x0D, index + 1 < bytes.endIndex, bytes[index + 1] != 0x0A {
                throw lines.isEmpty ? .malformedStatusLine : .malformedHeaderLine
            }
            index += 1
        }
        guard start == bytes.endIndex, let statusLine = lines.first else { throw .malformedStatusLine }
        let (minor, status) = try parseStatusLine(statusLine)
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let (name, value) = try parseHeaderLine(line)
            if let earlier = headers[name] { headers[name] = earlier + ", " + value } else { headers[name] = value }
        }
        return HTTP1ResponseHead(minorVersion: minor, status: status, headers: headers)
    }

    /// `HTTP/1.x SP 3DIGIT [SP reason]`.
    private static func parseStatusLine(_ line: ArraySlice<UInt8>) throws(HTTP1ProtocolError) -> (Int, Int) {
        let prefix = Array("HTTP/1.".utf8)
        guard line.count >= 12, line.prefix(prefix.count).elementsEqual(prefix) else {
            if line.count >= 5, line.prefix(5).elementsEqual(Array("HTTP/".utf8)) { throw .unsupportedVersion }
            throw .malformedStatusLine
        }
        var index = line.startIndex + prefix.count
        let minorByte = line[index]
        guard minorByte == 0x30 || minorByte == 0x31 else { throw .unsupportedVersion }
        index += 1
        guard line[index] == 0x20 else { throw .malformedStatusLine }
        index += 1
        var status = 0
        for _ in 0..<3 {
            let digit = line[index]
            guard (0x30...0x39).contains(digit) else { throw .malformedStatusLine }
            status = status * 10 + Int(digit - 0x30)
            index += 1
        }
        guard status >= 100 else { throw .malformedStatusLine }
        if index < line.endIndex {
            guard line[index] == 0x20 else { throw .malformedStatusLine }
            for byte in line[(index + 1)...] where byte < 0x20 && byte != 0x09 || byte == 0x7F { throw .malformedStatusLine }
        }
        return (Int(minorByte - 0x30), status)
    }

    /// `token ":" OWS value OWS`, with visible ASCII, tab, space or obs-text in the value.
    private static func parseHeaderLine(_ line: ArraySlice<UInt8>) throws(HTTP1ProtocolError) -> (String, String) {
        guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex else { throw .malformedHeaderLine }
        for byte in line[..<colon] where !isTokenByte(byte) { throw .malformedHeaderLine }
        var valueStart = colon + 1
        var valueEnd = line.endIndex
        while valueStart < valueEnd, line[valueStart] == 0x20 || line[valueStart] == 0x09 { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09 { valueEnd -= 1 }
        for byte in line[valueStart..<valueEnd] where (byte < 0x20 && byte != 0x09) || byte == 0x7F {
            throw .malformedHeaderLine
        }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        return (name, String(decoding: line[valueStart..<valueEnd], as: UTF8.self))
    }

    /// RFC 9110 §5.6.2 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// How the body is delimited for a response to `method` (RFC 9112 §6.3): none for `HEAD`, 1xx,
    /// 204 and 304; chunked when `Transfer-Encoding` says so (and nothing else); the `Content-Length`
    /// when one is given, every copy equal; otherwise until the peer closes.
    ///
    /// - Parameters:
    ///   - method: The request's method.
    ///   - limit: The largest body accepted.
    /// - Returns: The framing.
    /// - Throws: ``HTTP1ProtocolError`` for a malformed or conflicting length, an unsupported
    ///   coding or a length above `limit`.
    func framing(method: String, limit: Int) throws(HTTP1ProtocolError) -> Framing {
        if method == "HEAD" || status < 200 || status == 204 || status == 304 { return .none }
        let length = headers["content-length"]
        if let coding = headers["transfer-encoding"] {
            guard length == nil else { throw .conflictingFraming }
            guard coding.lowercased() == "chunked" else { throw .unsupportedTransferEncoding }
            return .chunked
        }
        guard let length else { return .untilClose }
        var value: Int?
        for copy in length.split(separator: ",", omittingEmptySubsequences: false) {
            let digits = copy.trimmingSpaces
            guard !digits.isEmpty, digits.count <= 18, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let parsed = Int(digits)
            else { throw .malformedContentLength }
            guard value == nil || value == parsed else { throw .malformedContentLength }
            value = parsed
        }
        guard let value else { throw .malformedContentLength }
        guard value <= limit else { throw .bodyTooLarge(limit: limit) }
        return .length(value)
    }

    /// Whether the connection may carry another request after this response (RFC 9112 §9.3).
    var keepsAlive: Bool {
        let tokens = (headers["connection"] ?? "").lowercased().split(separator: ",").map { $0.trimmingSpaces }
        if tokens.contains("close") { return false }
        return minorVersion == 1 || tokens.contains("keep-alive")
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}
