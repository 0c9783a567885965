import ExportAdapters
import ExportCore
import ExportHTTPAPI
import Foundation
import Testing

/// The HTTP API's signed-download route serving a real ``FileBlobStore``: the link minted by the store
/// downloads the exact bytes; altered and expired links are refused.
@Suite("Signed downloads from a FileBlobStore through the HTTP API")
struct FileBlobStoreDownloadTests {
    @Test("mint, download, tamper, expire")
    func endToEnd() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fs-api-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let clock = ManualClock()
        let files = try FileBlobStore(
            configuration: .init(
                directory: root, linkSecret: Array("a secret of at least sixteen bytes".utf8),
                linkBaseURL: URL(string: "https://exports.example.com/downloads")!),
            clock: clock)
        let key = BlobKey("exports/job-1.csv")!
        let content = Array("membership_id,plan\r\nm1,pro\r\n".utf8)
        let writer = try await files.beginWrite(key: key, contentType: "text/csv; charset=utf-8")
        try await writer.append(content)
        _ = try await writer.finish()

        let service = ExportService(jobStore: InMemoryJobStore(), queue: InMemoryQueue(clock: clock), clock: clock)
        let handler = ExportAPIHandler(
            service: service, clock: clock, recipient: { _ in "ada@example.com" }, signedDownloads: files, downloadStore: files)
        let link = try await files.downloadLink(for: key, filename: "memberships.csv", expiresIn: .seconds(300))
        let components = try #require(URLComponents(url: link.url, resolvingAgainstBaseURL: false))
        func get(path: String, query: [URLQueryItem]) async -> APIResponse {
            await handler.handle(APIRequest(method: "GET", path: path, query: query, principal: nil))
        }

        let response = await get(path: components.path, query: components.queryItems ?? [])
        #expect(response.status == 200)
        #expect(try await response.body.collect() == content)
        #expect(response.header("Content-Disposition")?.contains("memberships.csv") == true)

        let tampered = await get(path: "/downloads/exports/job-2.csv", query: components.queryItems ?? [])
        #expect(tampered.status != 200)
        clock.advance(by: .seconds(300))
        let expired = await get(path: components.path, query: components.queryItems ?? [])
        #expect(expired.status != 200 && expired.status != tampered.status, "expired (\(expired.status)) differs from forged (\(tampered.status))")
    }
}
