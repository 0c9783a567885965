import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("OutboxNotifier")
struct OutboxNotifierTests {
    static let ready = ExportNotification(
        jobID: JobID("job-1")!, owner: "u1", recipient: FSFixtures.recipient,
        content: .ready(.init(
            link: URL(string: "https://files.example.com/downloads/a.csv?expires=1&filename=a.csv&signature=ab")!,
            expiresAt: Date(timeIntervalSince1970: 1_767_830_400), rows: 1234, bytes: 56_789, format: .csv)))

    /// The headers (unfolded) and the decoded bodies of each part.
    static func parse(_ eml: String) throws -> (headers: [String: String], parts: [String: String]) {
        let sections = eml.components(separatedBy: "\r\n\r\n")
        var headers: [String: String] = [:]
        for line in try #require(sections.first).components(separatedBy: "\r\n") {
            let pieces = line.split(separator: ":", maxSplits: 1)
            headers[String(pieces[0])] = pieces.count > 1 ? pieces[1].trimmingCharacters(in: .whitespaces) : ""
        }
        var parts: [String: String] = [:]
        for (index, section) in sections.enumerated() where section.contains("Content-Transfer-Encoding: base64") {
            let type = section.contains("text/html") ? "html" : "plain"
            let body = sections[index + 1].components(separatedBy: "\r\n").prefix { !$0.hasPrefix("--") }.joined()
            parts[type] = String(decoding: try #require(Data(base64Encoded: body)), as: UTF8.self)
        }
        return (headers, parts)
    }

    @Test("a ready message is a complete RFC 5322 e-mail with both parts")
    func readyMessage() async throws {
        let directory = try TestDirectory("outbox")
        defer { directory.remove() }
        let notifier = try OutboxNotifier(directory: directory.url, from: EmailAddress("exports@example.com")!, clock: ManualClock())
        try await notifier.send(Self.ready)
        #expect(directory.list("").filter { $0.hasSuffix(".eml") } == ["job-1.ready.eml"])
        let (headers, parts) = try Self.parse(try directory.read("job-1.ready.eml"))
        #expect(headers["From"] == "\"Membership exports\" <exports@example.com>")
        #expect(headers["To"] == "ada@example.com")
        #expect(headers["Subject"] == "Your membership export is ready")
        #expect(headers["Date"] == "Thu, 01 Jan 2026 00:00:00 +0000")
        #expect(headers["MIME-Version"] == "1.0")
        #expect(headers["Message-ID"]?.hasSuffix("@example.com>") == true)
        #expect(headers["Content-Type"]?.hasPrefix("multipart/alternative; boundary=") == true)
        let plain = try #require(parts["plain"])
        let html = try #require(parts["html"])
        #expect(plain.contains(Self.ready.content.link))
        #expect(plain.contains("2026-01-08T00:00:00Z"))
        #expect(plain.contains("1234 rows"))
        #expect(html.contains("?expires=1&amp;filename=a.csv&amp;signature=ab\""), "the link is HTML-escaped")
    }

    @Test("a retry never writes a second message, even racing")
    func idempotent() async throws {
        let directory = try TestDirectory("outbox")
        defer { directory.remove() }
        let clock = ManualClock()
        let notifiers = try (0..<4).map { _ in try OutboxNotifier(directory: directory.url, from: EmailAddress("exports@example.com")!, clock: clock) }
        try await notifiers[0].send(Self.ready)
        let first = try directory.read("job-1.ready.eml")
        clock.advance(by: .seconds(3600))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for notifier in notifiers { group.addTask { try await notifier.send(Self.ready) } }
            try await group.waitForAll()
        }
        #expect(directory.list("").filter { $0.hasSuffix(".eml") }.count == 1)
        #expect(try directory.read("job-1.ready.eml") == first)
        #expect(directory.list(".tmp").isEmpty)
    }

    @Test("a failure message carries the escaped reason; headers cannot be injected")
    func failureAndInjection() async throws {
        let directory = try TestDirectory("outbox")
        defer { directory.remove() }
        let notifier = try OutboxNotifier(
            directory: directory.url, from: EmailAddress("exports@example.com")!, fromName: "Exports\r\nBcc: victim@example.org",
            clock: ManualClock())
        let failed = ExportNotification(
            jobID: JobID("job-2")!, owner: "u1", recipient: FSFixtures.recipient,
            content: .failed(reason: "<script>alert(1)</script> & the source\r\nBcc: x@y.z timed out"),
            idempotencyKey: "job-2.failed\r\nBcc: evil@example.org")
        try await notifier.send(failed)
        let files = directory.list("").filter { $0.hasSuffix(".eml") }
        #expect(files.count == 1)
        #expect(files.first?.hasPrefix("key-") == true, "an unsafe key is hashed into the file name")
        let eml = try directory.read(try #require(files.first))
        let (headers, parts) = try Self.parse(eml)
        #expect(headers["Bcc"] == nil)
        #expect(!eml.components(separatedBy: "\r\n\r\n")[0].contains("\nBcc"))
        #expect(headers["Subject"] == "Your membership export failed")
        let html = try #require(parts["html"])
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; the source"))
        #expect(try #require(parts["plain"]).contains("timed out"))
    }

    @Test("a non-ASCII sender name is an RFC 2047 encoded word")
    func encodedName() async throws {
        let directory = try TestDirectory("outbox")
        defer { directory.remove() }
        let notifier = try OutboxNotifier(directory: directory.url, from: EmailAddress("exports@example.com")!, fromName: "Équipe", clock: ManualClock())
        try await notifier.send(Self.ready)
        let (headers, _) = try Self.parse(try directory.read("job-1.ready.eml"))
        #expect(headers["From"] == "=?UTF-8?B?w4lxdWlwZQ==?= <exports@example.com>")
        #expect(notifier.fileURL(forIdempotencyKey: "job-1.ready").lastPathComponent == "job-1.ready.eml")
    }
}

extension ExportNotification.Content {
    fileprivate var link: String {
        if case .ready(let details) = self { return details.link.absoluteString }
        return ""
    }
}
