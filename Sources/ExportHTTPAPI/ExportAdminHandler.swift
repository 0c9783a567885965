import ExportCore
import Foundation

/// The operator HTTP API, independent of any server framework and separate from ``ExportAPIHandler``:
/// its own base path (`/admin` by default), its own authentication, its own OpenAPI document
/// (`Docs/admin-openapi.yaml`).
///
/// The handler never reads ``APIRequest/principal`` (the user the host's user authentication found):
/// only `authenticate`, the host's operator check, grants access, so a signed-in user reaches no
/// admin route. Routes, relative to ``Configuration/basePath``:
///
/// | Route | Answers |
/// |---|---|
/// | `GET /jobs` | 200, oldest first, `?state=&olderThan=&limit=&cursor=`; 400; 501 when the job store cannot list across owners |
/// | `GET /jobs/{id}` | 200 with attempts, failure, notification and dead letters; 404 |
/// | `POST /jobs/{id}/retry` | 202, queued again with a fresh budget; 404; 409 unless failed |
/// | `GET /dead-letters` | 200, oldest first, `?limit=` |
/// | `GET /dead-letters/{id}` | 200; 404 |
/// | `POST /dead-letters/{id}/redrive` | 202; 404 |
/// | `GET /workers` | 200, the pause switch; 501 without a `WorkerControlStore` |
/// | `POST /workers/pause`, `POST /workers/resume` | 200, optional `{"reason": "…"}`; 400, 413, 415, 501 |
///
/// Every error body is RFC 9457 `application/problem+json`; a request without an operator identity
/// gets 401, unknown paths 404, other methods 405 with `Allow`, unknown query items and body members
/// 400. Each action emits an `operator.*` `ExportEvent` carrying the operator's identity.
public struct ExportAdminHandler: Sendable {
    let administration: ExportAdministration
    let authenticate: @Sendable (APIRequest) async -> OperatorID?
    /// The configuration.
    public let configuration: Configuration

    /// Creates the handler.
    ///
    /// - Parameters:
    ///   - administration: The operator surface of the backend.
    ///   - authenticate: The host's operator authentication: returns the operator a request proves
    ///     it comes from (a separate token, an mTLS identity, a network check), or `nil` to answer 401.
    ///     Distinct from the user authentication on purpose; it sees the whole request, headers included.
    ///   - configuration: Mount path and limits.
    public init(
        administration: ExportAdministration,
        authenticate: @escaping @Sendable (APIRequest) async -> OperatorID?,
        configuration: Configuration = Configuration()
    ) {
        self.administration = administration
        self.authenticate = authenticate
        self.configuration = configuration
    }

    /// Every (method, path template) pair this handler serves, relative to the base path as
    /// `Docs/admin-openapi.yaml` spells them.
    public var servedRoutes: [(method: String, template: String)] {
        AdminRoute.all.flatMap { route in route.allowedMethods.map { ($0, route.template) } }
    }

    /// Answers one request. Never throws: every failure is an HTTP status with a problem document.
    ///
    /// - Parameters:
    ///   - request: The request.
    /// - Returns: The response.
    public func handle(_ request: APIRequest) async -> APIResponse {
        if request.headers.contains(where: { ExportAPIHandler.hasControlBreak($0.name) || ExportAPIHandler.hasControlBreak($0.value) }) {
            return problem(.invalidHeader, "a header field contains CR, LF or NUL", field: "headers")
        }
        if let lengthProblem = ExportAPIHandler.contentLengthProblem(request.headers) {
            return problem(.invalidHeader, lengthProblem, field: "Content-Length")
        }
        let basePath = configuration.basePath
        guard request.path.hasPrefix(basePath), request.path.dropFirst(basePath.count).hasPrefix("/"),
            let route = AdminRoute.match(request.path.dropFirst(basePath.count))
        else {
            return problem(.notFound, "no route for this path")
        }
        guard route.allowedMethods.contains(request.method) else {
            var response = problem(.methodNotAllowed, "this route answers \(route.allowedMethods.joined(separator: ", "))")
            response.headers.append(("Allow", route.allowedMethods.joined(separator: ", ")))
            return response
        }
        guard let operatorID = await authenticate(request) else {
            var response = problem(.unauthenticated, "operator credentials are required")
            response.headers.append(("WWW-Authenticate", "Bearer realm=\"admin\""))
            return response
        }
        do {
            return try await answer(route, request, by: operatorID)
        } catch let error as ExportError {
            return problem(for: error)
        } catch {
            return problem(.internalError, "the request could not be completed")
        }
    }

    private func answer(_ route: AdminRoute, _ request: APIRequest, by operatorID: OperatorID) async throws -> APIResponse {
        switch route {
        case .jobs: return try await listJobs(request.query, by: operatorID)
        case .job(let raw): return try await showJob(raw, request.query, by: operatorID)
        case .jobRetry(let raw): return try await retryJob(raw, request.query, by: operatorID)
        case .deadLetters: return try await listDeadLetters(request.query, by: operatorID)
        case .deadLetter(let raw): return try await showDeadLetter(raw, request.query, by: operatorID)
        case .deadLetterRedrive(let raw): return try await redrive(raw, request.query, by: operatorID)
        case .workers: return try await showWorkers(request.query, by: operatorID)
        case .workersPause: return try await setPaused(true, request, by: operatorID)
        case .workersResume: return try await setPaused(false, request, by: operatorID)
        }
    }
}
