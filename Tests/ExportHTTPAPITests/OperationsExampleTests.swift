import ExportAdapters
import ExportCore
import ExportHTTPAPI
import Foundation
import Testing

// operations:begin
/// Built once at startup beside the user API, on the same ports.
func makeAdminAPI(ports: ExportPorts, operatorTokens: [String: String]) throws -> ExportAdminHandler {
    let administration = try ExportAdministration(ports: ports)
    return ExportAdminHandler(
        administration: administration,
        // The operator check: its own credential, never the user's session.
        authenticate: { request in
            guard let header = request.header("Authorization"), header.hasPrefix("Bearer "),
                let name = operatorTokens[String(header.dropFirst("Bearer ".count))]
            else { return nil }
            return OperatorID(name)
        },
        configuration: .init(basePath: "/admin"))
}

/// Called by the host's router for every request under /admin, and only for those.
func routeAdmin(_ request: HostRequest, to admin: ExportAdminHandler) async -> HostResponse {
    let uri = URLComponents(string: request.uri)
    let response = await admin.handle(
        APIRequest(
            method: request.method,
            path: uri?.percentEncodedPath ?? request.uri,
            query: uri?.queryItems ?? [],
            headers: request.headers,
            body: request.body,
            principal: nil))  // the admin handler never reads the user
    return HostResponse(status: response.status, headers: response.headers, body: response.body)
}
// operations:end

@Suite("HTTP admin API: mounting example")
struct OperationsExampleTests {
    @Test("The documented mount pauses the workers for an operator and refuses a signed-in user")
    func mountWorks() async throws {
        let backend = InMemoryBackend()
        let admin = try makeAdminAPI(ports: backend.ports, operatorTokens: ["t-0p3r4t0r": "alice"])
        let asUser = await routeAdmin(
            HostRequest(method: "POST", uri: "/admin/workers/pause", headers: [], body: [], authenticatedUser: "ada"), to: admin)
        #expect(asUser.status == 401)
        let paused = await routeAdmin(
            HostRequest(
                method: "POST", uri: "/admin/workers/pause",
                headers: [("Authorization", "Bearer t-0p3r4t0r"), ("Content-Type", "application/json")],
                body: Array(#"{"reason":"database maintenance"}"#.utf8), authenticatedUser: nil), to: admin)
        #expect(paused.status == 200)
        #expect(try await backend.workerControl.workerControl().changedBy == "alice")
        let listed = await routeAdmin(
            HostRequest(method: "GET", uri: "/admin/jobs?state=failed&limit=10", headers: [("Authorization", "Bearer t-0p3r4t0r")],
                body: [], authenticatedUser: nil), to: admin)
        #expect(listed.status == 200)
    }

    @Test("Docs/Operations.md prints the compiled mounting code verbatim")
    func documentMirrorsCode() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let document = try String(contentsOf: root.appendingPathComponent("Docs/Operations.md"), encoding: .utf8)
        let begin = try #require(source.range(of: "// operations:begin\n"))
        let end = try #require(source.range(of: "// operations:end"))
        let snippet = String(source[begin.upperBound..<end.lowerBound])
        #expect(snippet.split(separator: "\n").count >= 10)
        #expect(document.contains("```swift\n" + snippet + "```"), "Docs/Operations.md does not print the snippet verbatim")
    }
}
