import ExportCore
import Foundation

/// The user-facing HTTP API of exports, independent of any server framework.
///
/// A host converts its framework's request into an ``APIRequest`` (with the principal its own
/// authentication established), calls ``handle(_:)``, and writes the ``APIResponse`` back. Routes,
/// relative to ``Configuration/basePath``:
///
/// | Route | Answers |
/// |---|---|
/// | `POST /exports` | 202 + `Location` (also for the caller's existing active export), 400, 413, 415, 422, 429 + `Retry-After` |
/// | `GET /exports` | 200, newest first, `?cursor=&limit=` |
/// | `GET /exports/{id}` | 200, 404 (unknown, another user's, or not a job id) |
/// | `DELETE /exports/{id}` | 202 while stopping, 204 when stopped, or when finished: deleted (file gone, download 410), 404 |
/// | `GET /exports/{id}/download` | 302 to a fresh short-lived link, 409 without a file yet, 410 expired, 404 |
/// | `GET {downloadPath}/{link}` | the file (200, streamed), 403 bad signature, 410 expired |
///
/// Every error body is RFC 9457 `application/problem+json`. Unauthenticated calls get 401 (the signed
/// download route authenticates by its signature instead); unknown paths 404; other methods 405 with
/// `Allow`; header fields containing CR, LF or NUL 400. `HEAD` is answered wherever `GET` is, with the
/// same status and header fields and no body (a download's file is not even opened). The handler never logs and never echoes a
/// header value, so a bearer token cannot leak through it.
public struct ExportAPIHandler: Sendable {
    let service: ExportService
    let clock: any ExportClock
    let recipient: @Sendable (UserID) async throws -> EmailAddress
    private(set) var resolver: (any SignedDownloadResolver)?
    private(set) var downloadStore: (any BlobStore)?
    let basePath: String
    let downloadPath: String
    /// The configuration.
    public let configuration: Configuration

    /// Creates a handler without the signed-download route (links point at S3 or another server).
    ///
    /// - Parameters:
    ///   - service: The export service that records and queues jobs.
    ///   - recipient: Looks up the e-mail address of the authenticated user (the address is never
    ///     taken from the request). It may throw; that is answered with 503 or 500. It is called only
    ///     for a request that passed validation.
    ///   - configuration: Mount path and limits.
    public init(
        service: ExportService,
        recipient: @escaping @Sendable (UserID) async throws -> EmailAddress,
        configuration: Configuration = Configuration()
    ) {
        self.service = service
        self.clock = service.clock
        self.recipient = recipient
        self.resolver = nil
        self.downloadStore = nil
        self.basePath = Configuration.normalized(configuration.basePath)  // the vars may have been set after init
        self.downloadPath = Configuration.normalized(configuration.downloadPath)
        self.configuration = configuration
    }

    /// Creates a handler that also serves `GET {downloadPath}/{link}`, the links minted by a blob
    /// store that points them at this host (a file-system blob store).
    ///
    /// - Parameters:
    ///   - service: The export service that records and queues jobs.
    ///   - recipient: Looks up the e-mail address of the authenticated user; see
    ///     ``init(service:recipient:configuration:)``.
    ///   - signedDownloads: The link verifier and the store to stream from.
    ///   - configuration: Mount path and limits.
    /// - Throws: `ExportError` with `ExportError.Code.configuration` when
    ///   ``Configuration/downloadPath`` is empty (or `/`, which normalises to empty) or lies under
    ///   `/exports`, where the route would shadow the export routes, or when the resolver's
    ///   `SignedDownloadResolver.linkBasePath` is not the route's path (`basePath` + `downloadPath`).
    public init(
        service: ExportService,
        recipient: @escaping @Sendable (UserID) async throws -> EmailAddress,
        signedDownloads: SignedDownloads,
        configuration: Configuration = Configuration()
    ) throws(ExportError) {
        let downloadPath = Configuration.normalized(configuration.downloadPath)
        guard !downloadPath.isEmpty else {
            throw ExportError(.configuration, "the signed-download route needs a downloadPath other than \"/\", such as \"/downloads\"")
        }
        guard downloadPath != "/exports", !downloadPath.hasPrefix("/exports/") else {
            throw ExportError(.configuration, "the downloadPath \(downloadPath) would shadow the /exports routes")
        }
                let route = Configuration.normalized(configuration.basePath) + downloadPath
        if let linkPath = signedDownloads.resolver.linkBasePath, linkPath != route {
            throw ExportError(
                .configuration,
                "the blob store's links start with the path \(linkPath), but this handler serves downloads at \(route): set the store's link base URL to the public URL of \(route), or the handler's basePath/downloadPath to match")
        }
        self.init(service: service, recipient: recipient, configuration: configuration)
        self.resolver = signedDownloads.resolver
        self.downloadStore = signedDownloads.store
    }

    /// Answers one request. Never throws: every failure is an HTTP status with a problem document.
    ///
    /// - Parameters:
    ///   - request: The request.
    /// - Returns: The response.
    public func handle(_ request: APIRequest) async -> APIResponse {
        guard request.method == "HEAD" else { return await answer(request, headOnly: false) }
        // HEAD is GET without the body: the same status and header fields, `Content-Length` included.
        var get = request
        get.method = "GET"
        var response = await answer(get, headOnly: true)
        response.body = .bytes([])
        return response
    }

    private func answer(_ request: APIRequest, headOnly: Bool) async -> APIResponse {
        if request.headers.contains(where: { Self.hasControlBreak($0.name) || Self.hasControlBreak($0.value) }) {
            // Neither the field's name nor its value is echoed: the value could be a credential.
            return problem(.invalidHeader, "a header field contains CR, LF or NUL", field: "headers")
        }
        if let lengthProblem = Self.contentLengthProblem(request.headers) {
            return problem(.invalidHeader, lengthProblem, field: "Content-Length")
        }
        guard let relative = relativePath(request.path),
            let route = APIRoute.match(relative, downloadPath: downloadPath, signedDownloads: resolver != nil)
        else {
            return problem(.notFound, "no route for this path")
        }
        guard route.allowedMethods.contains(request.method) else {
            var response = problem(.methodNotAllowed, "this route answers \(route.allowedMethods.joined(separator: ", "))")
            response.headers.append(("Allow", route.allowedMethods.joined(separator: ", ")))
            return response
        }
        do {
            if case .signedDownload(let link) = route {
                return try await serveSignedDownload(link, query: request.query, headOnly: headOnly)
            }
            guard let user = request.principal else {
                var response = problem(.unauthenticated, "sign in to use exports")
                response.headers.append(("WWW-Authenticate", "Bearer"))
                return response
            }
            switch (route, request.method) {
            case (.exports, "POST"): return try await create(request, user: user)
            case (.exports, _): return try await list(request.query, user: user)
            case (.export(let raw), "GET"): return try await show(raw, user: user)
            case (.export(let raw), _): return try await cancel(raw, user: user)
            case (.exportDownload(let raw), _): return try await redirectToDownload(raw, user: user)
            case (.signedDownload, _): return problem(.notFound, "no route for this path")
            case (.schedules, _), (.schedule, _), (.schedulePause, _), (.scheduleResume, _):
                guard service.offersSchedules else { return problem(.notFound, "this service offers no schedules") }
                return try await scheduleRoute(route, request, user: user)
            }
        } catch let error as ExportError {
            return problem(for: error)
        } catch {
            return problem(.internalError, "the request could not be completed")
        }
    }

    /// Every (method, path template) pair this handler serves, templates relative to the base path as
    /// `Docs/openapi.yaml` spells them.
    public var servedRoutes: [(method: String, template: String)] {
        APIRoute.served(downloadPath: downloadPath, signedDownloads: resolver != nil, schedules: service.offersSchedules)
    }

    private func relativePath(_ path: String) -> Substring? {
        guard path.hasPrefix(basePath) else { return nil }
        let rest = path.dropFirst(basePath.count)
        return rest.hasPrefix("/") ? rest : nil
    }

    /// Why the request's `Content-Length` cannot be trusted, or `nil` when it can (or is absent).
    ///
    /// RFC 9112 §6.3: differing lengths (in several fields, or a list in one) are an unrecoverable
    /// framing error, since a proxy may have framed the body by another of them; a value that is not
    /// `1*DIGIT` (such as `+5` or `-1`) is invalid too. Repeats of one value are allowed.
    static func contentLengthProblem(_ headers: [(name: String, value: String)]) -> String? {
        let values = headers.filter { $0.name.caseInsensitiveCompare("Content-Length") == .orderedSame }
            .flatMap { $0.value.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = values.first else { return nil }
        guard values.allSatisfy(isDigits) else { return "Content-Length must be a whole number of bytes" }
        guard values.allSatisfy({ $0 == first }) else { return "the request has several Content-Length values that differ" }
        return nil
    }

    /// Whether the text is one or more ASCII digits (no sign, no spaces), as HTTP numbers are spelled.
    static func isDigits(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    static func hasControlBreak(_ text: String) -> Bool {
        text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
    }
}
