import ExportAdapters
import ExportCore
@testable import ExportHTTPAPI
import Foundation
import Testing

@Suite("HTTP API: downloads")
struct DownloadTests {
    @Test("GET /exports/{id}/download: 302 to a fresh short-lived link each time, which serves the file")
    func redirectThenServe() async throws {
        let api = APIHarness()
        let id = try await api.succeededExport()
        let first = try await api.send("GET", "/exports/\(id)/download")
        #expect(first.status == 302)
        #expect(first.header("Cache-Control") == "no-store")
        let location = try #require(first.header("Location"))
        #expect(location.hasPrefix("http://files.test/api/v1/downloads/"))
        api.clock.advance(by: .seconds(1))
        let second = try #require(try await api.send("GET", "/exports/\(id)/download").header("Location"))
        #expect(second != location)

        let url = try #require(URLComponents(string: location))
        let file = try await api.send(
            "GET", String(url.path.dropFirst(APIHarness.base.count)), query: url.queryItems ?? [], user: nil)
        #expect(file.status == 200)
        #expect(file.header("Content-Type") == "text/csv; charset=utf-8")
        #expect(file.header("Content-Disposition") == "attachment; filename=\"memberships-2026-01-01.csv\"")
        #expect(file.header("Content-Length") == String(file.body.count))
        #expect(file.text.hasPrefix("membership_id,"))
        #expect(file.text.contains("m2,u1"))
        #expect(!file.text.contains("m9"))
        guard case .stream = file.response.body else {
            Issue.record("the file is not streamed")
            return
        }
    }

    @Test("The minted link stops working after its lifetime (410) and an altered link is 403")
    func signedLinkChecks() async throws {
        let api = APIHarness()
        let id = try await api.succeededExport()
        let (path, items) = try await api.mintedLink(id)
        let altered = items.map { $0.name == "filename" ? URLQueryItem(name: "filename", value: "other.csv") : $0 }
        let forged = try await api.send("GET", path, query: altered, user: nil)
        #expect(forged.status == 403)
        #expect(try forged.object()["type"] as? String == "https://membership-export.dev/problems/bad-signature")
        // Another key's token with this link's signature: forged.
        let otherKey = DownloadLinkSigner.token(for: try BlobKey(validating: "exports/u2/job-0001.csv"))
        #expect(try await api.send("GET", "/downloads/\(otherKey)", query: items, user: nil).status == 403)
        #expect(try await api.send("GET", "/downloads/not-a-token!", query: items, user: nil).status == 403)
        // The link is one path segment: deeper paths (the old key-as-path form, traversal) are no route.
        for path in ["/downloads/exports/../secret", "/downloads/exports/u1/job-0001.csv", "/downloads", "/downloads/"] {
            #expect(try await api.send("GET", path, query: items, user: nil).status == 404, "\(path)")
        }
        api.clock.advance(by: .seconds(301))
        let expired = try await api.send("GET", path, query: items, user: nil)
        #expect(expired.status == 410)
        #expect(try expired.object()["type"] as? String == "https://membership-export.dev/problems/link-expired")
    }

    @Test("A valid link to a deleted file is 410")
    func deletedFile() async throws {
        let api = APIHarness()
        let id = try await api.succeededExport()
        let (path, items) = try await api.mintedLink(id)
        let key = try #require(await api.jobs.job(JobID(id)!)?.result?.blobKey)
        try await api.memory.delete(key)
        let exchange = try await api.send("GET", path, query: items, user: nil)
        #expect(exchange.status == 410)
    }

    @Test("GET /exports/{id}/download: 409 before the file exists, 410 once the export expired")
    func notReadyThenExpired() async throws {
        let api = APIHarness()
        let id = try await api.send("POST", "/exports").string("id")
        let early = try await api.send("GET", "/exports/\(id)/download")
        #expect(early.status == 409)
        #expect(try early.object()["type"] as? String == "https://membership-export.dev/problems/not-ready")
        await api.runWorker()
        #expect(try await api.send("GET", "/exports/\(id)/download").status == 302)
        api.clock.advance(by: .seconds(7 * 24 * 3600))
        let late = try await api.send("GET", "/exports/\(id)/download")
        #expect(late.status == 410)
        #expect(try late.object()["type"] as? String == "https://membership-export.dev/problems/expired")
    }

    @Test("After the Reconciler expires an export: status says expired, download answers 410 until the record goes")
    func expiredByReconciler() async throws {
        let api = APIHarness()
        let id = try await api.send("POST", "/exports").string("id")
        await api.runWorker()
        let reconciler = try Reconciler(
            ports: ExportPorts(
                jobStore: api.jobs, queue: api.queue, blobStore: api.files, notifier: InMemoryNotifier(), clock: api.clock,
                settings: ExportSettings(expiredRecordRetention: .seconds(30 * 24 * 3600))))
        api.clock.advance(by: .seconds(7 * 24 * 3600 + 1))
        _ = try await reconciler.reconcile()
        #expect(await api.memory.keys.isEmpty, "the expired export's file was not deleted")

        let status = try await api.send("GET", "/exports/\(id)")
        #expect(status.status == 200)
        let body = try status.object()
        #expect(body["expired"] as? Bool == true)
        #expect((body["links"] as? [String: Any])?["download"] == nil)
        let late = try await api.send("GET", "/exports/\(id)/download")
        #expect(late.status == 410)

        api.clock.advance(by: .seconds(30 * 24 * 3600))
        _ = try await reconciler.reconcile()
        #expect(try await api.send("GET", "/exports/\(id)/download").status == 404)
    }

    @Test("Content-Disposition: quoted ASCII, and filename* (RFC 8187) for other names", arguments: [
        ("memberships-2026-01-01.csv", #"attachment; filename="memberships-2026-01-01.csv""#),
        ("Mitgliedschaften-Ü.csv", #"attachment; filename="Mitgliedschaften-_.csv"; filename*=UTF-8''Mitgliedschaften-%C3%9C.csv"#),
        (#"a"b\c.csv"#, #"attachment; filename="a_b_c.csv""#),
        ("50%.csv", #"attachment; filename="50_.csv"; filename*=UTF-8''50%25.csv"#),
        ("x\r\ny.csv", #"attachment; filename="x__y.csv"; filename*=UTF-8''x%0D%0Ay.csv"#),
        ("", #"attachment; filename="download""#),
    ])
    func contentDisposition(_ pair: (String, String)) {
        #expect(ExportAPIHandler.contentDisposition(filename: pair.0) == pair.1)
    }

    @Test("The signed route streams a non-ASCII file name through the header")
    func nonASCIIName() async throws {
        let api = APIHarness()
        let key = try BlobKey(validating: "exports/u1/x.csv")
        let writer = try await api.files.beginWrite(key: key, contentType: "text/csv; charset=utf-8")
        try await writer.append(Array("a,b\r\n".utf8))
        _ = try await writer.finish()
        let link = try await api.files.downloadLink(for: key, filename: "Übersicht.csv", expiresIn: .seconds(60))
        let url = try #require(URLComponents(url: link.url, resolvingAgainstBaseURL: false))
        let exchange = try await api.send("GET", String(url.path.dropFirst(APIHarness.base.count)), query: url.queryItems ?? [], user: nil)
        #expect(exchange.status == 200)
        #expect(exchange.header("Content-Disposition") == #"attachment; filename="_bersicht.csv"; filename*=UTF-8''%C3%9Cbersicht.csv"#)
        #expect(exchange.text == "a,b\r\n")
    }

    @Test("HEAD answers like GET without a body, and never opens the file")
    func head() async throws {
        let api = APIHarness()
        let id = try await api.succeededExport()
        let (path, query) = try await api.mintedLink(id)
        api.memory.faults.failNext(.read, with: ExportError(.unavailable, "down"))
        let head = try await api.send("HEAD", path, query: query, user: nil)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        guard case .bytes = head.response.body else {
            Issue.record("a HEAD body is a stream")
            return
        }
        #expect(try await api.send("GET", path, query: query, user: nil).status == 503)  // the fault was not consumed by HEAD
        let get = try await api.send("GET", path, query: query, user: nil)
        #expect(get.status == 200)
        for name in ["Content-Type", "Content-Length", "Content-Disposition", "Cache-Control"] {
            #expect(head.header(name) == get.header(name), "\(name)")
        }
        let status = try await api.send("GET", "/exports/\(id)")
        let headStatus = try await api.send("HEAD", "/exports/\(id)")
        #expect(headStatus.status == 200 && headStatus.body.isEmpty)
        #expect(headStatus.header("Content-Length") == status.header("Content-Length"))
        #expect(try await api.send("HEAD", "/exports/\(id)/download").header("Location") != nil)
        #expect(try await api.send("HEAD", "/exports/\(id)", user: nil).status == 401)
    }

    @Test("Without a resolver the signed route is not served")
    func notServedWithoutResolver() async throws {
        let api = APIHarness(signedDownloads: false)
        #expect(try await api.send("GET", "/downloads/x", user: nil).status == 404)
        #expect(!api.handler.servedRoutes.contains { $0.template.hasPrefix("/downloads") })
    }
}

/// A store whose metadata reports another size than the stored bytes, as after a blob was replaced
/// between `metadata` and `read`.
struct MisreportedSizeStore: BlobStore {
    let inner: SignedLinkStore
    let delta: Int64

    func beginWrite(key: BlobKey, contentType: String) async throws -> any BlobWriter {
        try await inner.beginWrite(key: key, contentType: contentType)
    }
    func read(_ key: BlobKey) async throws -> AsyncThrowingStream<[UInt8], any Error> { try await inner.read(key) }
    func metadata(_ key: BlobKey) async throws -> BlobMetadata? {
        guard let real = try await inner.metadata(key) else { return nil }
        return BlobMetadata(key: key, size: real.size + delta, contentType: real.contentType)
    }
    func delete(_ key: BlobKey) async throws { try await inner.delete(key) }
    func abortIncompleteWrites(startedBefore date: Date) async throws -> Int {
        try await inner.abortIncompleteWrites(startedBefore: date)
    }
    func downloadLink(for key: BlobKey, filename: String, expiresIn: Duration) async throws -> DownloadLink {
        try await inner.downloadLink(for: key, filename: filename, expiresIn: expiresIn)
    }
}

@Suite("HTTP API: download length")
struct DownloadLengthTests {
    @Test("A body that turns out longer or shorter than the Content-Length sent ends in an error, never silently",
        arguments: [Int64(-3), -1, 1, 3, 0])
    func lengthIsHeld(_ delta: Int64) async throws {
        let api = APIHarness()
        let id = try await api.succeededExport()
        let (path, query) = try await api.mintedLink(id)
        let handler = try ExportAPIHandler(
            service: api.service, recipient: { _ in try EmailAddress(validating: "a@example.com") },
            signedDownloads: .init(resolver: api.files, store: MisreportedSizeStore(inner: api.files, delta: delta)),
            configuration: .init(basePath: APIHarness.base))
        let response = await handler.handle(APIRequest(method: "GET", path: APIHarness.base + path, query: query, principal: nil))
        #expect(response.status == 200)
        let declared = try #require(response.header("Content-Length").flatMap { Int64($0) })
        if delta == 0 {
            #expect(Int64(try await response.body.collect().count) == declared)
        } else {
            await #expect(throws: ExportError.self) { _ = try await response.body.collect() }
        }
    }
}
