import ExportCore
import Foundation

extension AWSSigner {
    /// The canonical request of SigV4.
    func canonicalRequest(
        method: String,
        path: String,
        query: [(String, String)],
        headers: [(name: String, value: String)],
        host: String,
        signedHeaders: [String],
        payloadHash: String
    ) -> String {
        var uri = Self.encodePath(path)
        if doubleEncodePath { uri = Self.encodePath(uri) }
        let values = Self.canonicalHeaderValues(headers, host: host)
        let headerBlock = signedHeaders.map { "\($0):\(values[$0] ?? "")\n" }.joined()
        return [
            method.uppercased(),
            uri,
            Self.canonicalQuery(query),
            headerBlock,
            signedHeaders.joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
    }

    static func stringToSign(timestamp: String, scope: String, canonicalRequest: String) -> String {
        "AWS4-HMAC-SHA256\n\(timestamp)\n\(scope)\n\(SHA256Hasher.hash(Array(canonicalRequest.utf8)).hexString)"
    }

    /// Sorted, lower-cased names of the headers to sign, `host` included.
    static func canonicalHeaderNames(_ headers: [(name: String, value: String)], host: String) -> [String] {
        var names = Set(headers.map { $0.name.lowercased() })
        names.insert("host")
        return names.sorted()
    }

    /// Lower-cased name → trimmed, space-collapsed values joined by commas in the order given.
    static func canonicalHeaderValues(_ headers: [(name: String, value: String)], host: String) -> [String: String] {
        var values: [String: [String]] = ["host": [host]]
        for header in headers where header.name.lowercased() != "host" {
            values[header.name.lowercased(), default: []].append(trimmedValue(header.value))
        }
        return values.mapValues { $0.joined(separator: ",") }
    }

    /// Trims ASCII spaces and tabs and collapses runs of them into one space.
    static func trimmedValue(_ value: String) -> String {
        var result: [UInt8] = []
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == 0x20 || byte == 0x09 {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(0x20) }
                pendingSpace = false
                result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// `name=value` pairs, each side RFC 3986-encoded, sorted by name then value, joined by `&`.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        let pairs: [(name: String, value: String)] = query.map { (encode($0.0), encode($0.1)) }
        let sorted = pairs.sorted { lhs, rhs in
            lhs.name == rhs.name ? lhs.value < rhs.value : lhs.name < rhs.name
        }
        return sorted.map { $0.name + "=" + $0.value }.joined(separator: "&")
    }

    /// Percent-encodes every byte except the RFC 3986 unreserved ones (`A-Z a-z 0-9 - . _ ~`).
    static func encode(_ text: String, keepSlash: Bool = false) -> String {
        let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == 0x2F) {
                result.append(byte)
            } else {
                result.append(0x25)
                result.append(hexDigits[Int(byte >> 4)])
                result.append(hexDigits[Int(byte & 0xF)])
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// `A-Z a-z 0-9 - . _ ~`.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E: true
        default: false
        }
    }

    /// Encodes a path segment by segment, keeping the slashes; an empty path is `/`.
    static func encodePath(_ path: String) -> String {
        if path.isEmpty { return "/" }
        let encoded = encode(path, keepSlash: true)
        return encoded.hasPrefix("/") ? encoded : "/" + encoded
    }

    /// The endpoint's path (if any) followed by `path`.
    static func joinedPath(endpoint: URL, path: String) -> String {
        var base = endpoint.path
        while base.hasSuffix("/") { base.removeLast() }
        let tail = path.hasPrefix("/") ? path : "/" + path
        return base + tail
    }

    /// `host` or `host:port` when the port is not the scheme's default.
    static func hostHeader(_ endpoint: URL) -> String {
        let host = endpoint.host ?? ""
        guard let port = endpoint.port else { return host }
        let scheme = endpoint.scheme?.lowercased()
        if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) { return host }
        return "\(host):\(port)"
    }

    /// The URL that is sent: the path encoded once and the query encoded as it was signed.
    static func wireURL(endpoint: URL, path: String, query: [(String, String)]) -> URL {
        var text = "\(endpoint.scheme ?? "https")://\(hostHeader(endpoint))\(encodePath(path))"
        if !query.isEmpty {
            text += "?" + query.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        }
        return URL(string: text) ?? endpoint
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T"
            + pad(secondOfDay / 3600, 2) + pad(secondOfDay / 60 % 60, 2) + pad(secondOfDay % 60, 2) + "Z"
    }

    /// Howard Hinnant's `civil_from_days`.
    private static func civil(fromDays z: Int64) -> (Int64, Int64, Int64) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
