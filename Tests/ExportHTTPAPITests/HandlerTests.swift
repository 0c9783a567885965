import ExportAdapters
import ExportCore
@testable import ExportHTTPAPI
import Foundation
import Synchronization
import Testing

@Suite("HTTP API: routes and statuses")
struct HandlerTests {
    @Test("POST /exports: 202 with Location, id, state and links; the job is queued")
    func create() async throws {
        let api = APIHarness()
        let exchange = try await api.send("POST", "/exports", body: #"{"format":"csv","columns":["plan","seats"]}"#)
        #expect(exchange.status == 202)
        #expect(exchange.header("Location") == "/api/v1/exports/job-0001")
        #expect(exchange.header("Content-Type") == "application/json")
        let object = try exchange.object()
        #expect(object["id"] as? String == "job-0001")
        #expect(object["state"] as? String == "queued")
        #expect(object["format"] as? String == "csv")
        #expect(object["columns"] as? [String] == ["plan", "seats"])
        #expect((object["links"] as? [String: String])?["self"] == "/api/v1/exports/job-0001")
        #expect(await api.queue.visibleCount == 1)
        #expect(await api.jobs.job(JobID("job-0001")!)?.recipient.rawValue == "u1@example.com")
    }

    @Test("POST /exports without a body uses CSV and the default columns; byte-exact sorted JSON")
    func createWithDefaults() async throws {
        let api = APIHarness()
        let exchange = try await api.send("POST", "/exports")
        #expect(exchange.status == 202)
        #expect(
            exchange.text
                == #"{"attempt":0,"cancelRequested":false,"columns":["membership_id","user_id","organization_id","organization_name","plan","role","status","started_at","ended_at","renews_at","amount","currency"],"createdAt":"2026-01-01T00:00:00Z","expired":false,"expiresAt":null,"failure":null,"format":"csv","id":"job-0001","links":{"self":"/api/v1/exports/job-0001"},"nextAttemptAt":null,"notification":{"code":null,"state":"none"},"progress":{"rowsWritten":0},"result":null,"schedule":null,"state":"queued","updatedAt":"2026-01-01T00:00:00Z"}"#
        )
    }

    @Test("GET /exports/{id}: an ended export whose e-mail could not be sent says 'pending' with the code; 'sent' once it went")
    func notificationPending() async throws {
        let api = APIHarness()
        let id = try await api.succeededExport()
        let jobID = try #require(JobID(id))
        var status = try await api.send("GET", "/exports/\(id)").object()
        #expect((status["notification"] as? [String: Any])?["state"] as? String == "sent")
        var job = try #require(await api.jobs.job(jobID))
        job.lifecycle = try JSONDecoder().decode(
            JobLifecycle.self, from: Data(#"{"attempt":1,"cancelRequested":false,"notified":false,"state":"succeeded"}"#.utf8))
        job.notificationFailure = ExportFailure(code: "unavailable", reason: "smtp.internal:25 refused the connection")
        _ = try await api.jobs.update(job)
        status = try await api.send("GET", "/exports/\(id)").object()
        let notification = try #require(status["notification"] as? [String: Any])
        #expect(notification["state"] as? String == "pending" && notification["code"] as? String == "unavailable")
        #expect(!String(describing: status).contains("smtp.internal"), "the stored message must not reach the user")
    }

    @Test("PATCH /schedules/{id}: null is refused for every field but endsAt and maxRuns (schemathesis found it accepted)")
    func scheduleNulls() async throws {
        let api = APIHarness()
        let created = try await api.send("POST", "/schedules", body: #"{"cron":"0 9 * * *","timeZone":"UTC"}"#)
        #expect(created.status == 201)
        let id = try created.string("id")
        for field in ["cron", "name", "timeZone", "format", "columns", "everySeconds", "catchUp"] {
            let patched = try await api.send("PATCH", "/schedules/\(id)", body: "{\"\(field)\":null}")
            #expect(patched.status == 400, "\(field): null got \(patched.status)")
            #expect(try patched.invalidParams() == [field])
        }
        #expect(try await api.send("PATCH", "/schedules/\(id)", body: #"{"maxRuns":null,"endsAt":null}"#).status == 200)
    }

    @Test("a schedule's window: set by POST, shown, removed by PATCH null, an unknown one is a 400 naming the field")
    func scheduleWindow() async throws {
        let api = APIHarness()
        let created = try await api.send("POST", "/schedules", body: #"{"cron":"0 0 1 * *","window":"previousPeriod"}"#)
        #expect(created.status == 201)
        #expect(try created.string("window") == "previousPeriod")
        let id = try created.string("id")
        let removed = try await api.send("PATCH", "/schedules/\(id)", body: #"{"window":null}"#)
        #expect(removed.status == 200)
        #expect(try removed.object()["window"] is NSNull)
        #expect(try await api.send("PATCH", "/schedules/\(id)", body: #"{"window":"sinceLastRun"}"#).string("window") == "sinceLastRun")
        for body in [#"{"window":"lastWeek"}"#, #"{"window":3}"#] {
            let bad = try await api.send("PATCH", "/schedules/\(id)", body: body)
            #expect(bad.status == 400, "\(body)")
            #expect(try bad.invalidParams() == ["window"], "\(body)")
        }
    }

    @Test("POST /exports again while one is active: 202 with that same job, nothing new queued")
    func deduplicates() async throws {
        let api = APIHarness()
        let first = try await api.send("POST", "/exports")
        let second = try await api.send("POST", "/exports", body: #"{"format":"csv"}"#)
        #expect(second.status == 202)
        #expect(try second.string("id") == first.string("id"))
        #expect(second.header("Location") == first.header("Location"))
        #expect(await api.jobs.count == 1)
        #expect(await api.queue.visibleCount == 1)
    }

    @Test("POST /exports over the rate limit: 429 with Retry-After in seconds from retryAt")
    func rateLimited() async throws {
        let api = APIHarness(rateLimit: .init(maxRequests: 1, per: .seconds(3600)))
        _ = try await api.succeededExport()
        api.clock.advance(by: .seconds(600))
        let limited = try await api.send("POST", "/exports")
        #expect(limited.status == 429)
        #expect(limited.header("Retry-After") == "3000")
        #expect(limited.header("Content-Type") == "application/problem+json")
        #expect(try limited.object()["status"] as? Int == 429)
        #expect(await api.jobs.count == 1)
    }

    @Test("GET /exports/{id}: state, attempt, progress, timestamps and the result of a finished export")
    func showSucceeded() async throws {
        let api = APIHarness()
        let id = try await api.succeededExport()
        let exchange = try await api.send("GET", "/exports/\(id)")
        #expect(exchange.status == 200)
        let object = try exchange.object()
        #expect(object["state"] as? String == "succeeded")
        #expect(object["attempt"] as? Int == 1)
        #expect((object["progress"] as? [String: Any])?["rowsWritten"] as? Int == 2)
        let result = try #require(object["result"] as? [String: Any])
        #expect(result["rows"] as? Int == 2)
        #expect(result["format"] as? String == "csv")
        #expect(result["downloadUrl"] as? String == "/api/v1/exports/\(id)/download")
        #expect((result["sha256"] as? String)?.count == 64)
        #expect(object["failure"] is NSNull)
        #expect((object["links"] as? [String: String])?["download"] == "/api/v1/exports/\(id)/download")
    }

    @Test("GET /exports/{id} of a failed export carries its code and a fixed reason, never the internal message")
    func showFailed() async throws {
        let api = APIHarness()
        let id = try await api.send("POST", "/exports").string("id")
        api.source.faults.failAlways(.page, with: ExportError(.permanent, "the source refused"))
        await api.runWorker()
        let object = try await api.send("GET", "/exports/\(id)").object()
        #expect(object["state"] as? String == "failed")
        let failure = try #require(object["failure"] as? [String: Any])
        #expect(failure["code"] as? String == "permanent")
        #expect(failure["reason"] as? String == "The export could not be completed. Contact support if this persists.")
        #expect(try await api.jobs.job(#require(JobID(id)))?.failure?.reason.contains("the source refused") == true)
        #expect(object["result"] is NSNull)
    }

    @Test("An upstream service's error text never reaches the status body, whatever the code", arguments: [
        ExportError(.unavailable, "HTTP 503 from s3.internal:9000: <Error><Code>SlowDown</Code></Error>", isRetryable: true),
        ExportError(.io, "write /var/lib/exports/tmp/123.part: EIO"),
        ExportError(.permanent, "sqs https://10.0.0.7 said AccessDenied"),
    ])
    func failureReasonIsUserSafe(_ error: ExportError) async throws {
        let api = APIHarness()
        let id = try await api.send("POST", "/exports").string("id")
        api.source.faults.failAlways(.page, with: error)
        await api.runWorker()
        let exchange = try await api.send("GET", "/exports/\(id)")
        let failure = try #require(try exchange.object()["failure"] as? [String: Any])
        #expect(failure["code"] as? String == error.code.description)
        #expect(failure["reason"] as? String == ExportFailure.userFacingReason(forCode: error.code.description))
        for secret in ["s3.internal", "SlowDown", "/var/lib", "EIO", "10.0.0.7", "AccessDenied"] {
            #expect(!exchange.text.contains(secret))
        }
    }

    @Test("GET /exports/{id} of a retry-scheduled export says when it is tried again; other states say null")
    func nextAttemptAt() async throws {
        let api = APIHarness()
        let id = try await api.send("POST", "/exports").string("id")
        #expect(try await api.send("GET", "/exports/\(id)").object()["nextAttemptAt"] is NSNull)
        try await api.markRetryScheduled(id)
        let object = try await api.send("GET", "/exports/\(id)").object()
        #expect(object["state"] as? String == "retry_scheduled")
        #expect(object["nextAttemptAt"] as? String == "2026-01-01T00:00:30Z")
        #expect((object["failure"] as? [String: Any])?["code"] as? String == "unavailable")
    }

    @Test("GET /exports/{id}: another user's job and an unknown id are both 404, never 403")
    func foreignIsNotFound() async throws {
        let api = APIHarness()
        let id = try await api.send("POST", "/exports", user: "u2").string("id")
        let foreign = try await api.send("GET", "/exports/\(id)", user: "u1")
        let unknown = try await api.send("GET", "/exports/job-9999", user: "u1")
        #expect(foreign.status == 404)
        #expect(unknown.status == 404)
        #expect(foreign.text == unknown.text)
        #expect(try await api.send("DELETE", "/exports/\(id)", user: "u1").status == 404)
        #expect(try await api.send("GET", "/exports/\(id)/download", user: "u1").status == 404)
        #expect(await api.jobs.job(JobID(id)!)?.state == .queued)
    }

    @Test("GET /exports: newest first, paginated with a cursor, only the caller's jobs")
    func listPaginates() async throws {
        let api = APIHarness()
        var ids: [String] = []
        for _ in 0..<3 {
            ids.append(try await api.send("POST", "/exports").string("id"))
            _ = try await api.send("DELETE", "/exports/\(ids.last!)")
            api.clock.advance(by: .seconds(1))
        }
        _ = try await api.send("POST", "/exports", user: "u2")
        let first = try await api.send("GET", "/exports", query: [URLQueryItem(name: "limit", value: "2")])
        #expect(first.status == 200)
        let page1 = try first.object()
        #expect((page1["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[2], ids[1]])
        let cursor = try #require(page1["nextCursor"] as? String)
        let second = try await api.send(
            "GET", "/exports", query: [URLQueryItem(name: "limit", value: "2"), URLQueryItem(name: "cursor", value: cursor)])
        let page2 = try second.object()
        #expect((page2["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[0]])
        #expect(page2["nextCursor"] is NSNull)
    }

    @Test("DELETE /exports/{id}: 204 when queued (cancelled now) and again when already cancelled")
    func cancelQueued() async throws {
        let api = APIHarness()
        let id = try await api.send("POST", "/exports").string("id")
        let first = try await api.send("DELETE", "/exports/\(id)")
        #expect(first.status == 204)
        #expect(first.body.isEmpty)
        #expect(await api.jobs.job(JobID(id)!)?.state == .cancelled)
        #expect(try await api.send("DELETE", "/exports/\(id)").status == 204)
    }

    @Test("DELETE /exports/{id}: 202 while a running export stops")
    func cancelRunning() async throws {
        let api = APIHarness()
        let id = try await api.send("POST", "/exports").string("id")
        try await api.markRunning(id)
        let exchange = try await api.send("DELETE", "/exports/\(id)")
        #expect(exchange.status == 202)
        #expect(try exchange.object()["state"] as? String == "running")
        #expect(try exchange.object()["cancelRequested"] as? Bool == true)
    }

    @Test("DELETE /exports/{id} of a finished export deletes it: the file is gone, status says expired, the download is 410, another user's is 404")
    func deleteFinished() async throws {
        let api = APIHarness()
        let id = try await api.succeededExport()
        let jobID = try #require(JobID(id))
        let key = try #require(await api.jobs.job(jobID)?.result?.blobKey)
        #expect(try await api.memory.metadata(key) != nil)
        #expect(try await api.send("DELETE", "/exports/\(id)", user: "u2").status == 404)
        #expect(try await api.memory.metadata(key) != nil, "another user's DELETE must not touch the file")
        let exchange = try await api.send("DELETE", "/exports/\(id)")
        #expect(exchange.status == 204)
        #expect(try await api.memory.metadata(key) == nil, "the file must be deleted at once")
        let status = try await api.send("GET", "/exports/\(id)").object()
        #expect(status["expired"] as? Bool == true)
        #expect(try await api.send("GET", "/exports/\(id)/download").status == 410)
        #expect(try await api.send("DELETE", "/exports/\(id)").status == 204, "deleting twice is idempotent")
        #expect(api.events.all.contains { $0.name == .deleted && $0.jobID == jobID })
    }

    @Test("Unauthenticated calls get 401 problem+json on every authenticated route, and nothing happens")
    func unauthenticated() async throws {
        let api = APIHarness()
        for (method, path) in [("POST", "/exports"), ("GET", "/exports"), ("GET", "/exports/job-0001"),
            ("DELETE", "/exports/job-0001"), ("GET", "/exports/job-0001/download")]
        {
            let exchange = try await api.send(method, path, user: nil)
            #expect(exchange.status == 401, "\(method) \(path)")
            #expect(exchange.header("Content-Type") == "application/problem+json")
            #expect(exchange.header("WWW-Authenticate") == "Bearer")
        }
        #expect(await api.jobs.count == 0)
    }

    @Test("Unknown routes are 404; wrong methods 405 with Allow")
    func routing() async throws {
        let api = APIHarness()
        for path in ["/", "/export", "/exports/", "/exports/a/b", "/exports/job-1/download/x", "/exportsx"] {
            #expect(try await api.send("GET", path).status == 404, "\(path)")
        }
        let outside = await api.handler.handle(APIRequest(method: "GET", path: "/exports", principal: "u1"))
        #expect(outside.status == 404)
        let cases: [(String, String, String)] = [
            ("PUT", "/exports", "GET, HEAD, POST"), ("PATCH", "/exports/job-1", "DELETE, GET, HEAD"),
            ("POST", "/exports/job-1/download", "GET, HEAD"), ("DELETE", "/downloads/x", "GET, HEAD"),
            ("get", "/exports", "GET, HEAD, POST"), ("head", "/exports", "GET, HEAD, POST"),
        ]
        for (method, path, allow) in cases {
            let exchange = try await api.send(method, path)
            #expect(exchange.status == 405, "\(method) \(path)")
            #expect(exchange.header("Allow") == allow)
            #expect(exchange.header("Content-Type") == "application/problem+json")
        }
    }

    @Test("A port failure is 503 problem+json without the internal message")
    func portFailure() async throws {
        let api = APIHarness()
        api.jobs.faults.failNext(.list, with: ExportError(.unavailable, "db-7.internal:5432 refused"))
        let exchange = try await api.send("GET", "/exports")
        #expect(exchange.status == 503)
        #expect(!exchange.text.contains("db-7"))
    }

    @Test("A failing address lookup is 500 (or 503 when retryable) without its message, and nothing is queued")
    func recipientLookupFails() async throws {
        struct Broken: Error, CustomStringConvertible { var description: String { "ldap://10.0.0.5 bind failed" } }
        let broken = APIHarness(recipient: { _ in throw Broken() })
        let exchange = try await broken.send("POST", "/exports")
        #expect(exchange.status == 500)
        #expect(!exchange.text.contains("ldap"))
        let flaky = APIHarness(recipient: { _ in throw ExportError(.unavailable, "directory down") })
        #expect(try await flaky.send("POST", "/exports").status == 503)
        #expect(await broken.jobs.count == 0)
        #expect(await flaky.queue.visibleCount == 0)
    }

    @Test("A failing address lookup does not hide a 400: the body is validated first", arguments: [
        #"{"format":"xlsx"}"#, #"{"columns":["password_hash"]}"#, #"{"columns":[]}"#, #"{"columns":["plan","plan"]}"#, "{",
    ])
    func validationBeforeLookup(_ body: String) async throws {
        let calls = Mutex(0)
        let api = APIHarness(recipient: { _ in
            calls.withLock { $0 += 1 }
            throw ExportError(.unavailable, "directory down", isRetryable: true)
        })
        let exchange = try await api.send("POST", "/exports", body: body)
        #expect(exchange.status == 400)
        #expect(calls.withLock { $0 } == 0)
        #expect(await api.jobs.count == 0)
    }

    @Test("A failing address lookup does not hide the caller's active export: 202 with it, nothing new")
    func activeExportDespiteLookupFailure() async throws {
        let directoryDown = Mutex(false)
        let api = APIHarness(recipient: { user in
            if directoryDown.withLock({ $0 }) { throw ExportError(.unavailable, "directory down", isRetryable: true) }
            return try EmailAddress(validating: "\(user.rawValue)@example.com")
        })
        let first = try await api.send("POST", "/exports")
        directoryDown.withLock { $0 = true }
        let again = try await api.send("POST", "/exports", body: #"{"format":"csv"}"#)
        #expect(again.status == 202)
        #expect(try again.string("id") == first.string("id"))
        #expect(again.header("Location") == first.header("Location"))
        #expect(await api.jobs.count == 1)
        #expect(try await api.send("POST", "/exports", user: "u2").status == 503)  // no active export: the lookup's failure
    }

    @Test("Base and download paths are normalised: a missing leading or extra trailing slash still mounts")
    func pathNormalisation() {
        let configuration = ExportAPIHandler.Configuration(basePath: "api/v1//", downloadPath: "files/")
        #expect(configuration.basePath == "/api/v1")
        #expect(configuration.downloadPath == "/files")
        #expect(ExportAPIHandler.Configuration(basePath: "/").basePath == "")
    }

    @Test("A signed-download route that could not be served is an error at init, not a silently missing route",
        arguments: ["/", "", "//", "/exports", "exports/files"])
    func misconfiguredDownloadPath(_ downloadPath: String) async throws {
        let api = APIHarness()
        let error = #expect(throws: ExportError.self) {
            try ExportAPIHandler(
                service: api.service, recipient: { _ in try EmailAddress(validating: "a@example.com") }, signedDownloads: .init(api.files),
                configuration: .init(downloadPath: downloadPath))
        }
        #expect(error?.code == .configuration)
        let fine = try ExportAPIHandler(
            service: api.service, recipient: { _ in try EmailAddress(validating: "a@example.com") }, signedDownloads: .init(api.files),
            configuration: .init(downloadPath: "/files"))
        #expect(fine.servedRoutes.contains { $0.template == "/files/{link}" })
    }
}
