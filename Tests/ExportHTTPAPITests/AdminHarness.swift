import ExportAdapters
import ExportCore
@testable import ExportHTTPAPI
import Foundation
import Testing

/// The admin handler on the user API harness's stores, mounted under `/ops`, with an operator
/// authentication that accepts the header `X-Operator-Token: secret-<name>` as operator `<name>`.
/// Every exchange is recorded for the admin contract check.
struct AdminHarness {
    static let base = "/ops"

    let api: APIHarness
    let control = InMemoryWorkerControlStore()
    let admin: ExportAdministration
    let handler: ExportAdminHandler
    let recorder = ExchangeRecorder()

    init(workerControl: Bool = true, jobStore: (any JobStore)? = nil) {
        api = APIHarness()
        let ports = ExportPorts(
            jobStore: jobStore ?? api.jobs, queue: api.queue, blobStore: api.files, notifier: InMemoryNotifier(), clock: api.clock,
            observer: api.events, settings: ExportSettings(linkLifetime: .seconds(3600)),
            workerControl: workerControl ? control : nil)
        admin = try! ExportAdministration(ports: ports)
        handler = ExportAdminHandler(
            administration: admin,
            authenticate: { request in
                guard let token = request.header("X-Operator-Token"), token.hasPrefix("secret-") else { return nil }
                return OperatorID(String(token.dropFirst("secret-".count)))
            },
            configuration: .init(basePath: AdminHarness.base + "/", maxBodyBytes: 256))
    }

    /// Sends a request as operator `op` (none with `nil`) and records the exchange.
    @discardableResult
    func send(
        _ method: String, _ path: String, query: [URLQueryItem] = [], headers: [(name: String, value: String)] = [],
        body: String? = nil, op: String? = "alice", user: UserID? = nil
    ) async throws -> Exchange {
        var headers = headers
        if let op { headers.append(("X-Operator-Token", "secret-\(op)")) }
        if body != nil, !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(("Content-Type", "application/json"))
        }
        let request = APIRequest(
            method: method, path: AdminHarness.base + path, query: query, headers: headers, body: Array((body ?? "").utf8),
            principal: user)
        let response = await handler.handle(request)
        let bytes = try await response.body.collect()
        let exchange = Exchange(
            method: method, template: AdminRoute.match(Substring(path))?.template, response: response, body: bytes, requestBody: body)
        recorder.record(exchange)
        return exchange
    }

    /// A job of `user` that failed for good and was dead-lettered; returns its id.
    func failedJob(_ user: UserID) async throws -> String {
        let id = try await api.send("POST", "/exports", user: user).string("id")
        let failing = InMemoryMembershipSource(APIHarness.memberships)
        failing.faults.failAlways(.page, with: ExportError(.permanent, "upstream said no"))
        await api.runWorker(source: failing)
        #expect(await api.jobs.job(JobID(id)!)?.state == .failed)
        return id
    }
}
