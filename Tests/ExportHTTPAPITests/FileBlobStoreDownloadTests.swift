import ExportAdapters
import ExportCore
import ExportHTTPAPI
import Foundation
import Testing

/// A real ``FileBlobStore`` in a temp directory behind the handler's signed-download route, with one
/// stored blob and the handler mounted at the root.
struct FileDownloadFixture {
    let root: URL
    let clock = ManualClock()
    let files: FileBlobStore
    let handler: ExportAPIHandler
    let key = BlobKey("exports/job-1.csv")!
    let content = Array("membership_id,plan\r\nm1,pro\r\n".utf8)

    init() async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fs-api-\(UUID().uuidString)")
        files = try FileBlobStore(
            configuration: .init(
                directory: root, linkSecret: Array("a secret of at least sixteen bytes".utf8),
                linkBaseURL: URL(string: "https://exports.example.com/downloads")!),
            clock: clock)
        let writer = try await files.beginWrite(key: key, contentType: "text/csv; charset=utf-8")
        try await writer.append(content)
        _ = try await writer.finish()
        let service = try ExportService(
            ports: ExportPorts(
                jobStore: InMemoryJobStore(), queue: InMemoryQueue(clock: clock), blobStore: files, notifier: InMemoryNotifier(), clock: clock))
        handler = try ExportAPIHandler(
            service: service, recipient: { _ in try EmailAddress(validating: "ada@example.com") },
            signedDownloads: .init(resolver: files, store: files))
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// A fresh link's path and query, as the store minted it.
    func link(filename: String = "memberships.csv") async throws -> (path: String, query: [URLQueryItem]) {
        let link = try await files.downloadLink(for: key, filename: filename, expiresIn: .seconds(300))
        let components = try #require(URLComponents(url: link.url, resolvingAgainstBaseURL: false))
        return (components.percentEncodedPath, components.queryItems ?? [])
    }

    func send(_ method: String = "GET", path: String, query: [URLQueryItem]) async -> APIResponse {
        await handler.handle(APIRequest(method: method, path: path, query: query, principal: nil))
    }
}

/// The HTTP API's signed-download route serving a real ``FileBlobStore``: the link minted by the store
/// downloads the exact bytes; altered and expired links are refused with their exact statuses.
@Suite("Signed downloads from a FileBlobStore through the HTTP API")
struct FileBlobStoreDownloadTests {
    @Test("mint, download, tamper, expire")
    func endToEnd() async throws {
        let fixture = try await FileDownloadFixture()
        defer { fixture.remove() }
        let (path, query) = try await fixture.link()
        #expect(path.split(separator: "/").count == 2, "the link is one segment under /downloads: \(path)")

        let response = await fixture.send(path: path, query: query)
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/csv; charset=utf-8")
        #expect(response.header("Content-Length") == String(fixture.content.count))
        #expect(try await response.body.collect() == fixture.content)
        #expect(response.header("Content-Disposition") == #"attachment; filename="memberships.csv""#)

        let otherToken = DownloadLinkSigner.token(for: BlobKey("exports/job-2.csv")!)
        let tampered = await fixture.send(path: "/downloads/\(otherToken)", query: query)
        #expect(tampered.status == 403)
        #expect(tampered.header("Content-Type") == "application/problem+json")
        let tamperedBody = try await tampered.body.collect()
        #expect(tampered.header("Content-Length") == String(tamperedBody.count))
        #expect(String(decoding: tamperedBody, as: UTF8.self).contains("/problems/bad-signature"))

        fixture.clock.advance(by: .seconds(300))
        let expired = await fixture.send(path: path, query: query)
        #expect(expired.status == 410)
        #expect(expired.header("Content-Type") == "application/problem+json")
        let expiredBody = try await expired.body.collect()
        #expect(expired.header("Content-Length") == String(expiredBody.count))
        #expect(String(decoding: expiredBody, as: UTF8.self).contains("/problems/link-expired"))
    }

    /// Found by Fuzz/FuzzHTTPAPI: the route served the file for the minted link with an unsigned
    /// parameter appended, so a link had endless spellings.
    @Test("Only the minted link downloads: an extra parameter or a re-cased signature is 403, HEAD as GET")
    func onlyTheMintedLink() async throws {
        let fixture = try await FileDownloadFixture()
        defer { fixture.remove() }
        let (path, query) = try await fixture.link()
        let recased = query.map { $0.name == "signature" ? URLQueryItem(name: $0.name, value: $0.value?.uppercased()) : $0 }
        for altered in [query + [URLQueryItem(name: "utm_source", value: "mail")], [URLQueryItem(name: "x", value: nil)] + query, recased] {
            for method in ["GET", "HEAD"] {
                let response = await fixture.send(method, path: path, query: altered)
                #expect(response.status == 403, "\(method) \(altered)")
            }
        }
        let reordered = await fixture.send(path: path, query: query.reversed())
        #expect(reordered.status == 200)  // a framework may hand the query over as a map
        _ = try await reordered.body.collect()
    }

    @Test("A link's token is only the canonical unpadded base64url of a valid key", arguments: [
        "ZXhwb3J0cy9qb2ItMS5jc3Y=",  // padded
        "ZXhwb3J0cy9qb2ItMS5jc3Z",  // same length, other trailing bits: not what token(for:) makes
        "Li4vc2VjcmV0",  // "../secret", not a blob key
        "ZXhwb3J0cy9qb2ItMS5jc3Y+", "", "!!",
    ])
    func nonCanonicalTokens(_ token: String) async throws {
        #expect(DownloadLinkSigner.token(for: BlobKey("exports/job-1.csv")!) == "ZXhwb3J0cy9qb2ItMS5jc3Y")
        #expect(DownloadLinkSigner.keyText(fromToken: token) == nil)
        let fixture = try await FileDownloadFixture()
        defer { fixture.remove() }
        let (_, query) = try await fixture.link()
        #expect(try await fixture.files.verify(path: "/" + token, query: query) == .badSignature)
    }
}
