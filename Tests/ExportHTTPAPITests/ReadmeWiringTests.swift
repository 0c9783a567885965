import ExportAdapters
import ExportCore
import ExportHTTPAPI
import Foundation
import Synchronization
import Testing

// The wiring example of README.md ("Embedding it"): the file-system backend, a worker, the reconciler
// and the HTTP handler, compiled and run here; a test checks that README prints it verbatim.

/// The host's own data source: a stand-in for a query such as
/// `SELECT … WHERE user_id = $1 AND membership_id > $2 ORDER BY membership_id LIMIT $3`.
struct MyDatabaseSource: MembershipSource {
    let table: InMemoryMembershipSource
    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        try await table.memberships(of: owner, after: cursor, limit: limit)
    }
}

/// The host's user directory: where the e-mail address of an authenticated user comes from.
struct MyUsers: Sendable {
    func email(of user: UserID) async throws -> EmailAddress { try EmailAddress(validating: "\(user.rawValue)@example.com") }
}

@Suite("README wiring example")
struct ReadmeWiringTests {
    static let rows = [
        Membership(
            membershipID: "m1", userID: "ada", organizationID: "o1", organizationName: "Acme", plan: "pro", role: "admin",
            status: "active", startedAt: Date(timeIntervalSince1970: 1_700_000_000)),
        Membership(
            membershipID: "m2", userID: "ada", organizationID: "o2", organizationName: "Beta", plan: "free", role: "member",
            status: "active", startedAt: Date(timeIntervalSince1970: 1_700_000_000)),
    ]

    @Test("The README's wiring runs an export end to end through the handler, the worker and the e-mail")
    func wiring() async throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        let secret = Array("a link secret of at least sixteen bytes".utf8)
        let database = MyDatabaseSource(table: InMemoryMembershipSource(Self.rows))
        let users = MyUsers()
        let (notified, signal) = AsyncStream<Void>.makeStream()
        let observer = ClosureObserver { if $0.name == .notified { signal.yield() } }

        // README begins
        let backend = try FileSystemBackend(
            directory: dataDirectory, linkSecret: secret, linkBaseURL: URL(string: "https://app.example.com/api/v1/downloads")!,
            from: try EmailAddress(validating: "exports@example.com"), observer: observer)
        let service = try ExportService(ports: backend.ports)
        let worker = try ExportWorker(ports: backend.ports, source: database)
        let reconciler = try Reconciler(ports: backend.ports)
        let api = try ExportAPIHandler(
            service: service, recipient: { user in try await users.email(of: user) },
            signedDownloads: SignedDownloads(backend.blobStore), configuration: .init(basePath: "/api/v1"))
        let working = Task { try await worker.run() }, reconciling = Task { try await reconciler.run() }
        // README ends

        let created = await api.handle(
            APIRequest(
                method: "POST", path: "/api/v1/exports", headers: [("Content-Type", "application/json")],
                body: Array(#"{"format":"csv"}"#.utf8), principal: "ada"))
        #expect(created.status == 202)
        var iterator = notified.makeAsyncIterator()
        _ = await iterator.next()
        let page = try await service.list(requester: "ada")
        let job = try #require(page.items.first)
        #expect(job.state == .succeeded)
        #expect(job.result?.rows == 2)
        // The download address answers with a link that the handler's own download route serves.
        let minted = await api.handle(APIRequest(method: "GET", path: "/api/v1/exports/\(job.id)/download", principal: "ada"))
        let location = try #require(minted.headers.first { $0.name == "Location" }?.value)
        #expect(location.hasPrefix("https://app.example.com/api/v1/downloads/"))
        let link = try #require(URLComponents(string: location))
        let file = await api.handle(APIRequest(method: "GET", path: link.percentEncodedPath, query: link.queryItems ?? [], principal: nil))
        #expect(file.status == 200)
        #expect(String(decoding: try await file.body.collect(), as: UTF8.self).contains("m2,ada,o2,Beta"))
        #expect(FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("outbox").path))
        worker.shutdown()
        reconciling.cancel()
        try await working.value
        _ = await reconciling.result
    }

    @Test("README.md prints the wiring between the markers above verbatim, in at most 12 lines")
    func readmeMirrorsCode() throws {
        let here = URL(fileURLWithPath: #filePath)
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: here, encoding: .utf8)
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let begin = try #require(lines.firstIndex { $0.hasSuffix("// README begins") })
        let end = try #require(lines.firstIndex { $0.hasSuffix("// README ends") })
        let code = lines[(begin + 1)..<end].map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : $0 }
        #expect(code.count <= 12, "the wiring takes \(code.count) lines")
        #expect(readme.contains("```swift\n" + code.joined(separator: "\n") + "\n```"), "README.md does not print the wiring verbatim")
    }
}
