import ExportAdapters
import ExportCore
import Foundation

/// The container and instance metadata stand-in (`Fixtures/credentials_stub.py`), one process per
/// test so hit counts and settings are the test's own.
struct CredentialStub {
    let peer: PeerProcess
    let transport = URLSessionTransport()

    static func start() async throws -> CredentialStub {
        CredentialStub(peer: try await PeerProcess.start(script: "credentials_stub.py"))
    }

    var baseURL: URL { peer.baseURL }
    var containerURI: String { baseURL.absoluteString + "/container/creds" }

    /// Changes the stub's answers (see the fixture's docstring for the keys).
    func configure(_ settings: [String: JSONValue]) async throws {
        let response = try await transport.send(TransportRequest(
            method: "POST", url: baseURL.appendingPathComponent("stub/config"),
            headers: [("Content-Type", "application/json")], body: JSONValue.object(settings).serialized()))
        guard response.status == 204 else { throw PeerUnavailable(message: "stub/config answered \(response.status)") }
    }

    /// Requests counted by `"METHOD path"`.
    func hits() async throws -> [String: Int] {
        let response = try await transport.send(TransportRequest(method: "GET", url: baseURL.appendingPathComponent("stub/hits")))
        let document = try JSONValue.parse(response.body)
        return (document.objectValue ?? [:]).compactMapValues { $0.numberValue.map { Int($0) } }
    }

    func stop() { peer.stop() }

    static func rfc3339(_ date: Date) -> String {
        Date.ISO8601FormatStyle().format(date)
    }
}
