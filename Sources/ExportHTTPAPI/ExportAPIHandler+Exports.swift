import ExportCore
import Foundation

extension ExportAPIHandler {
    /// `POST /exports`.
    func create(_ request: APIRequest, user: UserID) async throws -> APIResponse {
        // Only this route takes a body, so only it answers 413 (as documented); others ignore a body.
        if request.body.count > configuration.maxBodyBytes
            || (request.header("Content-Length").flatMap { Int($0) } ?? 0) > configuration.maxBodyBytes
        {
            return problem(.bodyTooLarge, "request bodies are limited to \(configuration.maxBodyBytes) bytes")
        }
        let hasBody = !request.body.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        if hasBody, !Self.isJSON(request.header("Content-Type")) {
            return problem(.unsupportedMediaType, "the body must be application/json")
        }
        let body: CreateExportBody
        do {
            body = try CreateExportBody.parse(request.body)
        } catch {
            return problem(.invalidBody, error.reason, field: error.field ?? "body")
        }
        if let rejected = validationProblem(body) { return rejected }
        let address: EmailAddress
        do {
            address = try await recipient(user)
        } catch let error as ExportError where error.code == .invalidRecipient {
            return problem(.invalidRecipient, "the account's e-mail address cannot receive exports")
        } catch {
            // The directory is down. A caller with an active export gets it (202), as the service would
            // answer: that needs no address. Otherwise the lookup's failure is the answer.
            if let active = try? await service.activeExport(of: user) { return accepted(active) }
            throw error
        }
        let ticket: ExportTicket
        do {
            ticket = try await service.request(ExportRequest(owner: user, recipient: address, format: body.format, columns: body.columns, range: body.range))
        } catch let error as ExportError where error.code == .unsupportedFormat {
            return problem(.unsupportedFormat, error.message, field: "format")
        } catch let error as ExportError where error.code == .unknownColumn {
            return problem(.unknownColumn, error.message, field: "columns")
        } catch let error as ExportError where error.code == .invalidRecipient {
            return problem(.invalidRecipient, "the account's e-mail address cannot receive exports")
        }
        return accepted(ticket.job)
    }

    /// `202` with the job and its `Location`.
    private func accepted(_ job: ExportJob) -> APIResponse {
        let resource = ExportResource(job, basePath: basePath, now: clock.now())
        var response = json(202, resource)
        response.headers.append(("Location", resource.links.`self`))
        return response
    }

    /// `GET /exports`.
    func list(_ query: [URLQueryItem], user: UserID) async throws -> APIResponse {
        for name in ["limit", "cursor"] where query.count(where: { $0.name == name }) > 1 {
            return problem(.invalidQuery, "\(name) must be given at most once", field: name)
        }
        var limit = configuration.defaultPageSize
        // `?limit` (no value) and `?limit=` (empty) are the same mistake: a limit without a number.
        if let item = query.first(where: { $0.name == "limit" }) {
            guard let text = item.value, Self.isDigits(text), let value = Int(text), (1...configuration.maxPageSize).contains(value) else {
                return problem(.invalidQuery, "limit must be a whole number from 1 to \(configuration.maxPageSize)", field: "limit")
            }
            limit = value
        }
        var cursor: PageCursor?
        if let item = query.first(where: { $0.name == "cursor" }) {
            guard let token = item.value, !token.isEmpty, token.utf8.count <= 512, !token.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F })
            else { return problem(.invalidQuery, "cursor must be a value from nextCursor", field: "cursor") }
            cursor = PageCursor(token)
        }
        let page: Page<ExportJob>
        do {
            page = try await service.list(requester: user, after: cursor, limit: limit)
        } catch let error as ExportError where error.code == .invalidRequest && cursor != nil {
            return problem(.invalidQuery, "cursor must be a value from nextCursor", field: "cursor")
        }
        return json(200, ListResource(items: page.items.map { ExportResource($0, basePath: basePath, now: clock.now()) }, nextCursor: page.next?.token))
    }

    /// `GET /exports/{id}`.
    func show(_ raw: String, user: UserID) async throws -> APIResponse {
        guard let id = JobID(raw) else { return problem(.notFound, "no such export") }
        let job = try await service.status(of: id, requester: user)
        return json(200, ExportResource(job, basePath: basePath, now: clock.now()))
    }

    /// `DELETE /exports/{id}`.
    func cancel(_ raw: String, user: UserID) async throws -> APIResponse {
        guard let id = JobID(raw) else { return problem(.notFound, "no such export") }
        let outcome: CancelOutcome
        do {
            outcome = try await service.cancel(id, requester: user)
        } catch let error as ExportError where error.code == .illegalTransition {
            // Finished: deleting it removes the file now, and its download answers 410 from here on.
            try await service.deleteExport(id, requester: user)
            return APIResponse(status: 204)
        }
        switch outcome.action {
        case .stopping: return json(202, ExportResource(outcome.job, basePath: basePath, now: clock.now()))
        case .cancelled, .alreadyCancelled: return APIResponse(status: 204)
        }
    }

    /// `GET /exports/{id}/download`.
    func redirectToDownload(_ raw: String, user: UserID) async throws -> APIResponse {
        guard let id = JobID(raw) else { return problem(.notFound, "no such export") }
        let job = try await service.status(of: id, requester: user)
        guard job.state == .succeeded, job.result != nil else {
            return problem(.notReady, "the export is \(job.state.rawValue); only a succeeded export has a file")
        }
        if job.expiredAt != nil || job.expiresAt.map({ $0 <= clock.now() }) == true {
            return problem(.expired, "the export's file has been removed; request a new export")
        }
        let link: DownloadLink
        do {
            link = try await service.downloadLink(for: id, requester: user, expiresIn: configuration.downloadLinkLifetime)
        } catch let error as ExportError where error.code == .notFound {
            return problem(.expired, "the export's file has been removed; request a new export")
        }
        return APIResponse(status: 302, headers: [("Location", link.url.absoluteString), ("Cache-Control", "no-store")])
    }

    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }
}
