import ExportCore
import Foundation

extension OutboxNotifier {
    /// The whole RFC 5322 message, with CRLF line endings.
    func render(_ notification: ExportNotification) -> String {
        let keyHash = SHA256Hasher.hash(Array(notification.idempotencyKey.utf8)).hexString
        let boundary = "=_export_" + keyHash.prefix(24)
        let domain = from.rawValue.split(separator: "@").last.map(String.init) ?? "localhost"
        let (subject, text, html) = bodies(notification)
        var headers: [(String, String)] = [
            ("From", Self.displayName(fromName) + " <" + from.rawValue + ">"),
            ("To", notification.recipient.rawValue),
            ("Subject", Self.encodedWord(subject)),
            ("Date", Self.rfc5322Date(clock.now())),
            ("Message-ID", "<" + keyHash.prefix(32) + "." + notification.jobID.rawValue + "@" + domain + ">"),
            ("MIME-Version", "1.0"),
            ("Auto-Submitted", "auto-generated"),
            ("X-Export-Job-ID", notification.jobID.rawValue),
            // The key may hold anything; the header carries the file name's stem (the key when it is
            // plain ASCII, otherwise `key-<sha256>`), so it is ASCII, short and matches the file.
            ("X-Export-Idempotency-Key", String(Self.fileName(forKey: notification.idempotencyKey).dropLast(4))),
        ]
        headers.append(("Content-Type", "multipart/alternative; boundary=\"" + boundary + "\""))
        // RFC 5322 caps a line at 998 bytes (not characters); no value here comes near it, but the cap holds.
        var lines: [String] = headers.map { name, value in name + ": " + Self.prefix(Self.headerSafe(value), utf8Bytes: 900) }
        lines.append("")
        lines.append("This is a multi-part message in MIME format.")
        for (type, body) in [("text/plain", text), ("text/html", html)] {
            lines.append("--" + boundary)
            lines.append("Content-Type: " + type + "; charset=utf-8")
            lines.append("Content-Transfer-Encoding: base64")
            lines.append("")
            // RFC 2046: text is encoded in its canonical form, with CRLF line breaks.
            lines.append(contentsOf: Self.base64Lines(Array(Self.canonicalLineBreaks(body).utf8)))
        }
        lines.append("--" + boundary + "--")
        lines.append("")
        return lines.joined(separator: "\r\n")
    }

    private func bodies(_ notification: ExportNotification) -> (subject: String, text: String, html: String) {
        let job = notification.jobID.rawValue
        switch notification.content {
        case .ready(let details):
            let link = details.link.absoluteString
            let expiry = Self.iso8601(details.expiresAt)
            let summary = "\(details.rows) rows, \(details.bytes) bytes, format \(details.format.identifier)"
            let scope = details.scope.map { "\n\($0)." } ?? ""
            let htmlScope = details.scope.map { "<br>\(Self.escapeHTML($0))." } ?? ""
            let text = """
                Hello,

                Your membership export is ready. Download it here:

                \(link)

                The link expires at \(expiry) (UTC).
                The file has \(summary).\(scope)

                Export \(job)
                """
            let html = """
                <!DOCTYPE html><html><body>
                <p>Hello,</p>
                <p>Your membership export is ready. <a href="\(Self.escapeHTML(link))">Download it here</a>.</p>
                <p>The link expires at \(Self.escapeHTML(expiry)) (UTC).<br>The file has \(Self.escapeHTML(summary)).\(htmlScope)</p>
                <p style="color:#666">Export \(Self.escapeHTML(job))</p>
                </body></html>
                """
            return (details.scheduleName.map { "Your membership export is ready: \($0)" } ?? "Your membership export is ready", text, html)
        case .failed(let reason):
            let text = """
                Hello,

                Your membership export could not be completed.

                Reason: \(reason)

                You can request a new export at any time.

                Export \(job)
                """
            let html = """
                <!DOCTYPE html><html><body>
                <p>Hello,</p>
                <p>Your membership export could not be completed.</p>
                <p>Reason: \(Self.escapeHTML(reason))</p>
                <p>You can request a new export at any time.</p>
                <p style="color:#666">Export \(Self.escapeHTML(job))</p>
                </body></html>
                """
            return ("Your membership export failed", text, html)
        }
    }

    /// Removes CR, LF and every other control character from a header value: C0, DEL, C1
    /// (U+0080–U+009F, which some software treats as line breaks, such as NEL U+0085), and the Unicode
    /// line and paragraph separators (U+2028, U+2029).
    static func headerSafe(_ value: String) -> String {
        String(
            String.UnicodeScalarView(
                value.unicodeScalars.filter { scalar in
                    scalar.value >= 0x20 && !(0x7F...0x9F).contains(scalar.value) && scalar.value != 0x2028 && scalar.value != 0x2029
                }))
    }

    /// The longest prefix of `text` of at most `limit` UTF-8 bytes that ends on a whole character.
    static func prefix(_ text: String, utf8Bytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var result = ""
        var count = 0
        for character in text {
            let size = character.utf8.count
            if count + size > limit { break }
            result.append(character)
            count += size
        }
        return result
    }

    /// The text with every line break (CRLF, lone CR, lone LF) as CRLF.
    static func canonicalLineBreaks(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
    }

    /// A display name: a quoted string when it is printable ASCII, an RFC 2047 encoded word otherwise.
    static func displayName(_ name: String) -> String {
        let clean = headerSafe(name)
        if clean.unicodeScalars.allSatisfy({ $0.isASCII }) {
            return "\"" + clean.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return encodedWord(clean)
    }

    /// The text itself when ASCII, else an RFC 2047 `=?UTF-8?B?…?=` encoded word.
    static func encodedWord(_ text: String) -> String {
        let clean = headerSafe(text)
        if clean.unicodeScalars.allSatisfy({ $0.isASCII }) { return clean }
        return "=?UTF-8?B?" + Data(clean.utf8).base64EncodedString() + "?="
    }

    /// Base64 in lines of at most 76 characters (RFC 2045).
    static func base64Lines(_ bytes: [UInt8]) -> [String] {
        let encoded = Data(bytes).base64EncodedString()
        var lines: [String] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return lines
    }

    /// Escapes `& < > " '` for HTML text and attributes.
    static func escapeHTML(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// An RFC 5322 date in UTC, such as `Thu, 01 Jan 2026 00:00:00 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    /// RFC 3339 in UTC, such as `2026-01-01T00:00:00Z` (whole seconds).
    static func iso8601(_ date: Date) -> String {
        RFC3339.string(date) ?? "\(date)"
    }
}
