import ExportCore
import Foundation

extension ExportAPIHandler {
    /// Every `/schedules` route.
    func scheduleRoute(_ route: APIRoute, _ request: APIRequest, user: UserID) async throws -> APIResponse {
        do {
            switch (route, request.method) {
            case (.schedules, "POST"): return try await createSchedule(request, user: user)
            case (.schedules, _): return try await listSchedules(request.query, user: user)
            case (.schedule(let raw), "GET"): return try await showSchedule(raw, user: user)
            case (.schedule(let raw), "PATCH"): return try await updateSchedule(raw, request, user: user)
            case (.schedule(let raw), _): return try await deleteSchedule(raw, user: user)
            case (.schedulePause(let raw), _): return try await setPaused(true, raw, user: user)
            case (.scheduleResume(let raw), _): return try await setPaused(false, raw, user: user)
            default: return problem(.notFound, "no route for this path")
            }
        } catch let error as ExportError where error.code == .notFound {
            return problem(.notFound, "no such schedule")
        } catch let error as ExportError where error.code == .invalidSchedule {
            return problem(.invalidSchedule, error.message, field: Self.scheduleField(of: error))
        } catch let error as ExportError where error.code == .unsupportedFormat {
            return problem(.unsupportedFormat, error.message, field: "format")
        } catch let error as ExportError where error.code == .unknownColumn {
            return problem(.unknownColumn, error.message, field: "columns")
        }
    }

    /// The body field an `ExportError.Code.invalidSchedule` message is about.
    static func scheduleField(of error: ExportError) -> String {
        for field in ["timeZone", "endsAt", "maxRuns", "name", "interval", "cron"] where error.message.contains(field) {
            return field == "interval" ? "everySeconds" : field
        }
        return "body"
    }

    /// The parsed body, or the problem to answer.
    private func scheduleBody(_ request: APIRequest) -> Result<ScheduleBody, Rejected> {
        if request.body.count > configuration.maxBodyBytes {
            return .failure(Rejected(problem(.bodyTooLarge, "request bodies are limited to \(configuration.maxBodyBytes) bytes")))
        }
        guard Self.isJSON(request.header("Content-Type")) else {
            return .failure(Rejected(problem(.unsupportedMediaType, "the body must be application/json")))
        }
        do {
            return .success(try ScheduleBody.parse(request.body))
        } catch {
            return .failure(Rejected(problem(error.field == "cron" || error.field == "everySeconds" ? .invalidSchedule : .invalidBody, error.reason, field: error.field ?? "body")))
        }
    }

    struct Rejected: Error { let response: APIResponse; init(_ response: APIResponse) { self.response = response } }

    /// `POST /schedules`.
    func createSchedule(_ request: APIRequest, user: UserID) async throws -> APIResponse {
        let body: ScheduleBody
        switch scheduleBody(request) {
        case .success(let parsed): body = parsed
        case .failure(let rejected): return rejected.response
        }
        let recurrence: ExportRecurrence
        let catchUp: CatchUpPolicy?
        let window: ScheduleWindow?
        do {
            guard let named = try body.recurrence() else {
                return problem(.invalidSchedule, "give cron (a 5-field cron expression) or everySeconds", field: "cron")
            }
            recurrence = named
            catchUp = try body.catchUpPolicy()
            window = try body.scheduleWindow() ?? nil
        } catch {
            return problem(.invalidSchedule, error.reason, field: error.field ?? "body")
        }
        let address: EmailAddress
        do {
            address = try await recipient(user)
        } catch let error as ExportError where error.code == .invalidRecipient {
            return problem(.invalidRecipient, "the account's e-mail address cannot receive exports")
        }
        let schedule: ExportSchedule
        do {
            schedule = try await service.createSchedule(
                ScheduleRequest(
                    owner: user, name: body.name ?? "Scheduled export", recipient: address, format: body.format, columns: body.columns,
                    recurrence: recurrence, timeZone: body.timeZone ?? "UTC", startsAt: body.startsAt, endsAt: body.endsAt ?? nil,
                    maxRuns: body.maxRuns ?? nil, catchUp: catchUp ?? .runLatest, window: window))
        } catch let error as ExportError where error.code == .rateLimited {
            return problem(.tooManySchedules, error.message)
        }
        let resource = ScheduleResource(schedule, basePath: basePath)
        var response = json(201, resource)
        response.headers.append(("Location", resource.links.`self`))
        return response
    }

    /// `GET /schedules`.
    func listSchedules(_ query: [URLQueryItem], user: UserID) async throws -> APIResponse {
        var limit = configuration.defaultPageSize
        if let item = query.first(where: { $0.name == "limit" }) {
            guard let text = item.value, Self.isDigits(text), let value = Int(text), (1...configuration.maxPageSize).contains(value) else {
                return problem(.invalidQuery, "limit must be a whole number from 1 to \(configuration.maxPageSize)", field: "limit")
            }
            limit = value
        }
        let cursor = query.first(where: { $0.name == "cursor" }).flatMap(\.value).map(PageCursor.init)
        let page: Page<ExportSchedule>
        do {
            page = try await service.schedules(requester: user, after: cursor, limit: limit)
        } catch let error as ExportError where error.code == .invalidRequest && cursor != nil {
            return problem(.invalidQuery, "cursor must be a value from nextCursor", field: "cursor")
        }
        return json(200, ListResource(items: page.items.map { ScheduleResource($0, basePath: basePath) }, nextCursor: page.next?.token))
    }

    /// `GET /schedules/{id}`.
    func showSchedule(_ raw: String, user: UserID) async throws -> APIResponse {
        guard let id = ScheduleID(raw) else { return problem(.notFound, "no such schedule") }
        return json(200, ScheduleResource(try await service.schedule(id, requester: user), basePath: basePath))
    }

    /// `PATCH /schedules/{id}`.
    func updateSchedule(_ raw: String, _ request: APIRequest, user: UserID) async throws -> APIResponse {
        guard let id = ScheduleID(raw) else { return problem(.notFound, "no such schedule") }
        let body: ScheduleBody
        switch scheduleBody(request) {
        case .success(let parsed): body = parsed
        case .failure(let rejected): return rejected.response
        }
        var change = ScheduleChange()
        do {
            change.recurrence = try body.recurrence()
            change.catchUp = try body.catchUpPolicy()
            change.window = try body.scheduleWindow()
        } catch {
            return problem(.invalidSchedule, error.reason, field: error.field ?? "body")
        }
        if body.startsAt != nil { return problem(.invalidSchedule, "startsAt cannot change; create a new schedule", field: "startsAt") }
        change.name = body.name
        change.format = body.format
        change.columns = body.columns
        change.timeZone = body.timeZone
        change.endsAt = body.endsAt
        change.maxRuns = body.maxRuns
        return json(200, ScheduleResource(try await service.updateSchedule(id, requester: user, change: change), basePath: basePath))
    }

    /// `DELETE /schedules/{id}`.
    func deleteSchedule(_ raw: String, user: UserID) async throws -> APIResponse {
        guard let id = ScheduleID(raw) else { return problem(.notFound, "no such schedule") }
        try await service.deleteSchedule(id, requester: user)
        return APIResponse(status: 204)
    }

    /// `POST /schedules/{id}/pause` and `/resume`.
    func setPaused(_ paused: Bool, _ raw: String, user: UserID) async throws -> APIResponse {
        guard let id = ScheduleID(raw) else { return problem(.notFound, "no such schedule") }
        let schedule = paused ? try await service.pauseSchedule(id, requester: user) : try await service.resumeSchedule(id, requester: user)
        return json(200, ScheduleResource(schedule, basePath: basePath))
    }
}
