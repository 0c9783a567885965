import ExportCore
import Foundation

extension ExportAdminHandler {
    func listJobs(_ query: [URLQueryItem], by operatorID: OperatorID) async throws -> APIResponse {
        if let refused = strictQuery(query, allowed: ["state", "olderThan", "limit", "cursor"], repeatable: ["state"]) { return refused }
        var states: Set<JobState>?
        for item in query where item.name == "state" {
            guard let value = item.value, let state = JobState(rawValue: value) else {
                let known = JobState.allCases.map(\.rawValue).joined(separator: ", ")
                return problem(.invalidQuery, "state must be one of: \(known)", field: "state")
            }
            states = (states ?? []).union([state])
        }
        var createdBefore: Date?
        if let item = query.first(where: { $0.name == "olderThan" }) {
            guard let text = item.value, ExportAPIHandler.isDigits(text), text.count <= 10, let seconds = Int(text) else {
                return problem(.invalidQuery, "olderThan must be a whole number of seconds", field: "olderThan")
            }
            createdBefore = administration.clock.now().adding(.zero - .seconds(seconds))
        }
        let limit: Int
        switch pageLimit(query) {
        case .success(let value): limit = value
        case .failure(let refused): return refused.response
        }
        var cursor: PageCursor?
        if let item = query.first(where: { $0.name == "cursor" }) {
            guard let token = item.value, !token.isEmpty, token.utf8.count <= 512, !token.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F })
            else { return problem(.invalidQuery, "cursor must be a value from nextCursor", field: "cursor") }
            cursor = PageCursor(token)
        }
        let page: Page<ExportJob>
        do {
            page = try await administration.jobs(
                matching: JobFilter(states: states, createdBefore: createdBefore), after: cursor, limit: limit, by: operatorID)
        } catch let error as ExportError where error.code == .invalidRequest && cursor != nil {
            return problem(.invalidQuery, "cursor must be a value from nextCursor", field: "cursor")
        }
        let now = administration.clock.now()
        return json(200, AdminJobList(items: page.items.map { AdminJobResource($0, now: now) }, nextCursor: page.next?.token))
    }

    func showJob(_ raw: String, _ query: [URLQueryItem], by operatorID: OperatorID) async throws -> APIResponse {
        if let refused = strictQuery(query, allowed: []) { return refused }
        guard let id = JobID(raw) else { return problem(.notFound, "no such job") }
        let inspection = try await administration.inspect(id, by: operatorID)
        return json(200, AdminJobResource(inspection.job, now: administration.clock.now(), deadLetters: inspection.deadLetters))
    }

    func retryJob(_ raw: String, _ query: [URLQueryItem], by operatorID: OperatorID) async throws -> APIResponse {
        if let refused = strictQuery(query, allowed: []) { return refused }
        guard let id = JobID(raw) else { return problem(.notFound, "no such job") }
        do {
            let job = try await administration.retry(id, by: operatorID)
            return json(202, AdminJobResource(job, now: administration.clock.now()))
        } catch let error as ExportError where error.code == .illegalTransition {
            return problem(.notFailed, error.message)
        }
    }

    func listDeadLetters(_ query: [URLQueryItem], by operatorID: OperatorID) async throws -> APIResponse {
        if let refused = strictQuery(query, allowed: ["limit"]) { return refused }
        let limit: Int
        switch pageLimit(query) {
        case .success(let value): limit = value
        case .failure(let refused): return refused.response
        }
        let letters = try await administration.deadLetters(limit: limit, by: operatorID)
        return json(200, DeadLetterList(items: letters.map(DeadLetterResource.init)))
    }

    func showDeadLetter(_ raw: String, _ query: [URLQueryItem], by operatorID: OperatorID) async throws -> APIResponse {
        if let refused = strictQuery(query, allowed: []) { return refused }
        return json(200, DeadLetterResource(try await administration.deadLetter(MessageID(raw), by: operatorID)))
    }

    func redrive(_ raw: String, _ query: [URLQueryItem], by operatorID: OperatorID) async throws -> APIResponse {
        if let refused = strictQuery(query, allowed: []) { return refused }
        return json(202, DeadLetterResource(try await administration.redrive(MessageID(raw), by: operatorID)))
    }

    func showWorkers(_ query: [URLQueryItem], by operatorID: OperatorID) async throws -> APIResponse {
        if let refused = strictQuery(query, allowed: []) { return refused }
        return json(200, WorkerControlResource(try await administration.workerControl(by: operatorID)))
    }

    func setPaused(_ paused: Bool, _ request: APIRequest, by operatorID: OperatorID) async throws -> APIResponse {
        if let refused = strictQuery(request.query, allowed: []) { return refused }
        if request.body.count > configuration.maxBodyBytes
            || (request.header("Content-Length").flatMap { Int($0) } ?? 0) > configuration.maxBodyBytes
        {
            return problem(.bodyTooLarge, "request bodies are limited to \(configuration.maxBodyBytes) bytes")
        }
        let hasBody = !request.body.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        var reason: String?
        if hasBody {
            guard ExportAPIHandler.isJSON(request.header("Content-Type")) else {
                return problem(.unsupportedMediaType, "the body must be application/json")
            }
            switch WorkerSwitchBody.parse(request.body) {
            case .success(let body): reason = body.reason
            case .failure(let refused): return problem(.invalidBody, refused.reason, field: refused.field)
            }
        }
        let control = paused
            ? try await administration.pauseWorkers(by: operatorID, reason: reason)
            : try await administration.resumeWorkers(by: operatorID, reason: reason)
        return json(200, WorkerControlResource(control))
    }

    // MARK: Input

    /// A refusal that carries its response (so `Result` can hold it).
    struct Refusal: Error {
        let response: APIResponse
    }

    /// A 400 for a query item the route does not know, or a known one given twice.
    func strictQuery(_ query: [URLQueryItem], allowed: Set<String>, repeatable: Set<String> = []) -> APIResponse? {
        if let unknown = query.first(where: { !allowed.contains($0.name) }) {
            let name = String(unknown.name.prefix(64))
            return problem(.invalidQuery, "unknown query parameter \(String(reflecting: name))", field: name)
        }
        for name in allowed.subtracting(repeatable) where query.count(where: { $0.name == name }) > 1 {
            return problem(.invalidQuery, "\(name) must be given at most once", field: name)
        }
        return nil
    }

    func pageLimit(_ query: [URLQueryItem]) -> Result<Int, Refusal> {
        guard let item = query.first(where: { $0.name == "limit" }) else { return .success(configuration.defaultPageSize) }
        guard let text = item.value, ExportAPIHandler.isDigits(text), text.count <= 6, let value = Int(text),
            (1...configuration.maxPageSize).contains(value)
        else {
            return .failure(Refusal(response: problem(
                .invalidQuery, "limit must be a whole number from 1 to \(configuration.maxPageSize)", field: "limit")))
        }
        return .success(value)
    }
}
