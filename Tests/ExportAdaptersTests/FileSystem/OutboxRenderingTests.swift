import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("OutboxNotifier rendering and relay protocol")
struct OutboxRenderingTests {
    static func notifier(_ directory: TestDirectory) throws -> OutboxNotifier {
        try OutboxNotifier(directory: directory.url, from: EmailAddress("exports@example.com")!, clock: ManualClock())
    }

    @Test("text parts are canonical: every line break is CRLF before base64 (RFC 2046)")
    func crlfBodies() async throws {
        let directory = try TestDirectory("outbox")
        defer { directory.remove() }
        try await Self.notifier(directory).send(OutboxNotifierTests.ready)
        let failed = ExportNotification(
            jobID: JobID("job-2")!, owner: "u1", recipient: FSFixtures.recipient,
            content: .failed(reason: "line one\nline two\rline three\r\nend"))
        try await Self.notifier(directory).send(failed)
        for name in ["job-1.ready.eml", "job-2.failed.eml"] {
            let (_, parts) = try OutboxNotifierTests.parse(try directory.read(name))
            for body in parts.values {
                let bytes = Array(body.utf8)
                #expect(bytes.contains(UInt8(ascii: "\n")))
                for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
                    #expect(index > 0 && bytes[index - 1] == UInt8(ascii: "\r"), "\(name): a bare LF at \(index)")
                }
                for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\r") {
                    #expect(index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n"), "\(name): a bare CR at \(index)")
                }
            }
        }
    }

    @Test("headers are ASCII without C1 controls; a non-ASCII key is carried as its hash, like the file name")
    func asciiHeaders() async throws {
        let directory = try TestDirectory("outbox")
        defer { directory.remove() }
        let notifier = try OutboxNotifier(
            directory: directory.url, from: EmailAddress("exports@example.com")!, fromName: "Exports\u{85}Bcc: a@b.c\u{9B}", clock: ManualClock())
        let key = "clé-" + String(repeating: "é", count: 600) + "\u{85}Bcc: x@y.z"
        let notification = ExportNotification(
            jobID: JobID("job-3")!, owner: "u1", recipient: FSFixtures.recipient, content: OutboxNotifierTests.ready.content,
            idempotencyKey: key)
        try await notifier.send(notification)
        let file = notifier.fileURL(forIdempotencyKey: key)
        let eml = try String(contentsOf: file, encoding: .utf8)
        let head = try #require(eml.components(separatedBy: "\r\n\r\n").first)
        #expect(head.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(!head.unicodeScalars.contains { (0x80...0x9F).contains($0.value) })
        for line in head.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 998) }
        let (headers, _) = try OutboxNotifierTests.parse(eml)
        let stem = file.deletingPathExtension().lastPathComponent
        #expect(headers["X-Export-Idempotency-Key"] == stem)
        #expect(stem == "key-" + SHA256Hasher.hash(Array(key.utf8)).hexString)
        // The display name is an encoded word; decoded, it holds no C1 control either.
        #expect(!(headers["From"] ?? "").contains("\u{85}"))
        #expect(OutboxNotifierTestsSupport.decodedFromName(headers["From"] ?? "") == "ExportsBcc: a@b.c")
    }

    @Test("a message the relay moved to sent/ is not written again")
    func sentIsRemembered() async throws {
        let directory = try TestDirectory("outbox")
        defer { directory.remove() }
        let notifier = try Self.notifier(directory)
        try await notifier.send(OutboxNotifierTests.ready)
        // The relay sends it and moves it to sent/, as documented.
        try FileManager.default.moveItem(atPath: directory.path + "/job-1.ready.eml", toPath: directory.path + "/sent/job-1.ready.eml")
        try await notifier.send(OutboxNotifierTests.ready)
        #expect(directory.list("").filter { $0.hasSuffix(".eml") }.isEmpty)
        #expect(directory.list("sent") == ["job-1.ready.eml"])
    }
}

enum OutboxNotifierTestsSupport {
    /// The text of `=?UTF-8?B?…?= <address>`, or of a quoted display name.
    static func decodedFromName(_ from: String) -> String? {
        if from.hasPrefix("=?UTF-8?B?"), let end = from.range(of: "?=") {
            let encoded = from[from.index(from.startIndex, offsetBy: 10)..<end.lowerBound]
            return Data(base64Encoded: String(encoded)).map { String(decoding: $0, as: UTF8.self) }
        }
        guard from.hasPrefix("\""), let close = from.dropFirst().firstIndex(of: "\"") else { return nil }
        return String(from[from.index(after: from.startIndex)..<close])
    }
}
