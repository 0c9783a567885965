import ExportAdapters
import ExportCore
@testable import ExportHTTPAPI
import Foundation
import Testing

/// `ExportAdminHandler`: its own authentication, strict input, and the operator on every event.
@Suite("HTTP admin API")
struct AdminHandlerTests {
    @Test("a signed-in user without operator credentials reaches no admin route (401), whatever the route")
    func userCannotReachAdmin() async throws {
        let admin = AdminHarness()
        let id = try await admin.failedJob("u1")
        for (method, path) in [
            ("GET", "/jobs"), ("GET", "/jobs/\(id)"), ("POST", "/jobs/\(id)/retry"), ("GET", "/dead-letters"),
            ("GET", "/dead-letters/msg-1"), ("POST", "/dead-letters/msg-1/redrive"), ("GET", "/workers"),
            ("POST", "/workers/pause"), ("POST", "/workers/resume"),
        ] {
            let response = try await admin.send(method, path, op: nil, user: "u1")
            #expect(response.status == 401, "\(method) \(path)")
            #expect(response.header("WWW-Authenticate") != nil)
        }
        #expect(await admin.api.jobs.job(JobID(id)!)?.state == .failed)  // the retry did not happen
        #expect(try await admin.control.workerControl().paused == false)
        #expect(!admin.api.events.all.contains { $0.operatorID != nil })
    }

    @Test("the admin routes are not part of the user API, even for an operator's token")
    func notOnUserRoutes() async throws {
        let admin = AdminHarness()
        for path in ["/jobs", "/admin/jobs", "/ops/jobs", "/workers/pause"] {
            let response = await admin.api.handler.handle(
                APIRequest(method: "GET", path: APIHarness.base + path, headers: [("X-Operator-Token", "secret-alice")], principal: "u1"))
            #expect(response.status == 404, "\(path)")
        }
    }

    @Test("listing, inspecting and retrying a job, with the operator's identity on each event")
    func jobsRoutes() async throws {
        let admin = AdminHarness()
        let failed = try await admin.failedJob("u2")
        admin.api.clock.advance(by: .seconds(600))
        let queued = try await admin.api.send("POST", "/exports", user: "u3").string("id")
        let list = try await admin.send("GET", "/jobs", query: [URLQueryItem(name: "state", value: "failed")], op: "bob")
        #expect(list.status == 200)
        let items = try #require(try list.object()["items"] as? [[String: Any]])
        #expect(items.map { $0["id"] as? String } == [failed])
        let old = try await admin.send("GET", "/jobs", query: [URLQueryItem(name: "olderThan", value: "300")])
        #expect(try #require(try old.object()["items"] as? [[String: Any]]).map { $0["id"] as? String } == [failed])
        let both = try await admin.send("GET", "/jobs", query: [URLQueryItem(name: "state", value: "failed"), URLQueryItem(name: "state", value: "queued")])
        #expect(try #require(try both.object()["items"] as? [[String: Any]]).map { $0["id"] as? String } == [failed, queued])

        let shown = try await admin.send("GET", "/jobs/\(failed)")
        #expect(shown.status == 200)
        let job = try shown.object()
        #expect(job["owner"] as? String == "u2")
        #expect((job["failure"] as? [String: Any])?["reason"] as? String == "upstream said no")  // operators see the stored reason
        #expect((job["notification"] as? [String: Any])?["state"] as? String == "sent")
        #expect((job["deadLetters"] as? [[String: Any]])?.count == 1)

        #expect(try await admin.send("POST", "/jobs/\(queued)/retry").status == 409)
        let retried = try await admin.send("POST", "/jobs/\(failed)/retry", op: "carol")
        #expect(retried.status == 202)
        #expect(try retried.string("state") == "queued")
        let event = try #require(admin.api.events.all.first { $0.name == .operatorJobRetried })
        #expect(event.operatorID == "carol")
        #expect(event.jobID == JobID(failed))
        #expect(admin.api.events.all.contains { $0.name == .operatorJobsListed && $0.operatorID == "bob" })
        #expect(try await admin.send("GET", "/jobs/job-9999").status == 404)
        #expect(try await admin.send("GET", "/jobs/not.an.id").status == 404)
    }

    @Test("unknown query items and body members are typed 400 problems")
    func strictInput() async throws {
        let admin = AdminHarness()
        let cases: [(String, String, [URLQueryItem], String?, String)] = [
            ("GET", "/jobs", [URLQueryItem(name: "owner", value: "u1")], nil, "owner"),
            ("GET", "/jobs", [URLQueryItem(name: "state", value: "stuck")], nil, "state"),
            ("GET", "/jobs", [URLQueryItem(name: "olderThan", value: "-5")], nil, "olderThan"),
            ("GET", "/jobs", [URLQueryItem(name: "limit", value: "1"), URLQueryItem(name: "limit", value: "2")], nil, "limit"),
            ("GET", "/jobs", [URLQueryItem(name: "cursor", value: "garbage")], nil, "cursor"),
            ("GET", "/dead-letters", [URLQueryItem(name: "limit", value: "0")], nil, "limit"),
            ("GET", "/workers", [URLQueryItem(name: "verbose", value: nil)], nil, "verbose"),
            ("POST", "/workers/pause", [], #"{"reason":"x","until":"tomorrow"}"#, "until"),
            ("POST", "/workers/pause", [], #"{"reason":5}"#, "reason"),
            ("POST", "/workers/pause", [], "[1]", "body"),
        ]
        for (method, path, query, body, field) in cases {
            let response = try await admin.send(method, path, query: query, body: body)
            #expect(response.status == 400, "\(method) \(path) \(query) \(body ?? "")")
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(try response.invalidParams() == [field])
        }
        #expect(try await admin.control.workerControl().paused == false)
    }

    @Test("pause and resume through HTTP set the shared switch, with the operator and reason")
    func workersRoutes() async throws {
        let admin = AdminHarness()
        #expect(try await admin.send("GET", "/workers").object()["paused"] as? Bool == false)
        let paused = try await admin.send("POST", "/workers/pause", body: #"{"reason":"db maintenance"}"#, op: "dave")
        #expect(paused.status == 200)
        #expect(try paused.string("changedBy") == "dave")
        #expect(try await admin.control.workerControl() == WorkerControl(
            paused: true, changedAt: admin.api.clock.now(), changedBy: "dave", reason: "db maintenance"))
        #expect(admin.api.events.all.contains { $0.name == .operatorWorkersPaused && $0.operatorID == "dave" && $0.message == "db maintenance" })
        #expect(try await admin.send("POST", "/workers/resume").object()["paused"] as? Bool == false)
        #expect(try await admin.send("POST", "/workers/pause", headers: [("Content-Type", "text/plain")], body: "stop").status == 415)
        #expect(try await admin.send("GET", "/workers/pause").status == 405)

        let bare = AdminHarness(workerControl: false)
        let refused = try await bare.send("POST", "/workers/pause")
        #expect(refused.status == 501)
        #expect(bare.api.events.all.contains { $0.name == .operatorActionFailed && $0.code == .unsupported && $0.operatorID == "alice" })
    }

    @Test("dead letters: list, inspect, redrive; unknown ids are 404")
    func deadLetterRoutes() async throws {
        let admin = AdminHarness()
        let id = try await admin.failedJob("u1")
        let listed = try await admin.send("GET", "/dead-letters")
        let letterItems = try #require(try listed.object()["items"] as? [[String: Any]])
        let letter = try #require(letterItems.first)
        #expect(letter["jobId"] as? String == id)
        let letterID = try #require(letter["id"] as? String)
        #expect(try await admin.send("GET", "/dead-letters/\(letterID)").status == 200)
        #expect(try await admin.send("POST", "/dead-letters/\(letterID)/redrive").status == 202)
        #expect(try await admin.send("POST", "/dead-letters/\(letterID)/redrive").status == 404)
        #expect(try await admin.send("GET", "/dead-letters/nope").status == 404)
        #expect(await admin.api.queue.visibleCount == 1)
    }
}
