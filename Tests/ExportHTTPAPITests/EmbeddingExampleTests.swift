import ExportAdapters
import ExportCore
import ExportHTTPAPI
import Foundation
import Testing

// Stand-ins for a host framework's request and response (Hummingbird's, Vapor's, …), so the embedding
// code of Docs/HTTP-API.md compiles and runs here exactly as printed there.
struct HostRequest {
    var method: String
    var uri: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var authenticatedUser: String?
}

struct HostResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: APIResponseBody
}

// snippet:begin
/// Called by the host's router for every request under /api/v1, after its authentication ran.
func route(_ request: HostRequest, to api: ExportAPIHandler) async -> HostResponse {
    let uri = URLComponents(string: request.uri)
    let response = await api.handle(
        APIRequest(
            method: request.method,
            path: uri?.percentEncodedPath ?? request.uri,
            query: uri?.queryItems ?? [],
            headers: request.headers,
            body: request.body,
            principal: request.authenticatedUser.map { UserID($0) }))
    return HostResponse(status: response.status, headers: response.headers, body: response.body)
}
// snippet:end

@Suite("HTTP API: embedding example")
struct EmbeddingExampleTests {
    /// The handler on in-memory ports, as a host builds it once at startup.
    static func makeExportAPI() throws -> ExportAPIHandler {
        let service = try ExportService(ports: InMemoryBackend().ports)
        return ExportAPIHandler(
            service: service, recipient: { user in try EmailAddress(validating: "\(user.rawValue)@example.com") },
            configuration: .init(basePath: "/api/v1"))
    }

    @Test("The documented embedding accepts, shows and lists an export through the host's types")
    func embeddingWorks() async throws {
        let api = try Self.makeExportAPI()
        let created = await route(
            HostRequest(method: "POST", uri: "/api/v1/exports", headers: [("Content-Type", "application/json")],
                body: Array(#"{"format":"csv"}"#.utf8), authenticatedUser: "ada"), to: api)
        #expect(created.status == 202)
        let location = try #require(created.headers.first { $0.name == "Location" }?.value)
        let shown = await route(HostRequest(method: "GET", uri: location, headers: [], body: [], authenticatedUser: "ada"), to: api)
        #expect(shown.status == 200)
        let listed = await route(
            HostRequest(method: "GET", uri: "/api/v1/exports?limit=5", headers: [], body: [], authenticatedUser: "ada"), to: api)
        #expect(listed.status == 200)
        #expect(String(decoding: try await listed.body.collect(), as: UTF8.self).contains(location))
        let anonymous = await route(HostRequest(method: "GET", uri: location, headers: [], body: [], authenticatedUser: nil), to: api)
        #expect(anonymous.status == 401)
    }

    @Test("Docs/HTTP-API.md and README.md print the compiled embedding code verbatim", arguments: ["Docs/HTTP-API.md", "README.md"])
    func documentMirrorsCode(_ path: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let document = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        let begin = try #require(source.range(of: "// snippet:begin\n"))
        let end = try #require(source.range(of: "// snippet:end"))
        let snippet = String(source[begin.upperBound..<end.lowerBound])
        #expect(snippet.split(separator: "\n").count >= 10)
        #expect(document.contains("```swift\n" + snippet + "```"), "\(path) does not print the snippet verbatim")
    }
}
