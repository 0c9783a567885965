import ExportAdapters
import ExportCore
@testable import ExportHTTPAPI
import ExportTestSupport
import Foundation
import Testing

/// Walks every documented route and status of `Docs/admin-openapi.yaml` against `ExportAdminHandler`
/// and has `Scripts/check_openapi_contract.py` check each response against its schema, that every
/// documented response was produced and that every served route is documented (as `ContractTests`
/// does for the user API).
@Suite("HTTP admin API: OpenAPI contract")
struct AdminContractTests {
    @Test("Every documented admin route and status is produced by the handler and matches its schema")
    func walkMatchesDocument() async throws {
        let admin = AdminHarness()
        let crlf: [(name: String, value: String)] = [("X-Trace", "a\r\nb")]
        let down = ExportError(.unavailable, "down")
        let failed = try await admin.failedJob("u1")
        let queued = try await admin.api.send("POST", "/exports", user: "u2").string("id")

        // GET /jobs
        try await admin.send("GET", "/jobs", query: [URLQueryItem(name: "limit", value: "1")])  // 200 with nextCursor
        try await admin.send("GET", "/jobs", query: [URLQueryItem(name: "state", value: "failed"), URLQueryItem(name: "olderThan", value: "0")])  // 200
        try await admin.send("GET", "/jobs", query: [URLQueryItem(name: "owner", value: "u1")])  // 400
        try await admin.send("GET", "/jobs", op: nil, user: "u1")  // 401
        admin.api.jobs.faults.failNext(.listAll, with: down)
        try await admin.send("GET", "/jobs")  // default

        // GET /jobs/{id}
        try await admin.send("GET", "/jobs/\(failed)")  // 200 with failure and dead letters
        try await admin.send("GET", "/jobs/\(queued)")  // 200, queued
        try await admin.send("GET", "/jobs/\(failed)", headers: crlf)  // 400
        try await admin.send("GET", "/jobs/\(failed)", op: nil)  // 401
        try await admin.send("GET", "/jobs/job-9999")  // 404
        admin.api.jobs.faults.failNext(.get, with: down)
        try await admin.send("GET", "/jobs/\(failed)")  // default

        // GET /dead-letters and /dead-letters/{id}
        let letters = try await admin.send("GET", "/dead-letters")  // 200
        let letterItems = try #require(try letters.object()["items"] as? [[String: Any]])
        let letter = try #require(letterItems.first?["id"] as? String)
        try await admin.send("GET", "/dead-letters", query: [URLQueryItem(name: "limit", value: "1000")])  // 400
        try await admin.send("GET", "/dead-letters", op: nil)  // 401
        admin.api.queue.faults.failNext(.deadLetters, with: down)
        try await admin.send("GET", "/dead-letters")  // default
        try await admin.send("GET", "/dead-letters/\(letter)")  // 200
        try await admin.send("GET", "/dead-letters/\(letter)", query: [URLQueryItem(name: "x", value: "1")])  // 400
        try await admin.send("GET", "/dead-letters/\(letter)", op: nil)  // 401
        try await admin.send("GET", "/dead-letters/nope")  // 404
        admin.api.queue.faults.failNext(.deadLetters, with: down)
        try await admin.send("GET", "/dead-letters/\(letter)")  // default

        // POST /dead-letters/{id}/redrive
        try await admin.send("POST", "/dead-letters/\(letter)/redrive", headers: crlf)  // 400
        try await admin.send("POST", "/dead-letters/\(letter)/redrive", op: nil)  // 401
        admin.api.queue.faults.failNext(.deadLetters, with: down)
        try await admin.send("POST", "/dead-letters/\(letter)/redrive")  // default
        try await admin.send("POST", "/dead-letters/\(letter)/redrive")  // 202
        try await admin.send("POST", "/dead-letters/\(letter)/redrive")  // 404: already redriven

        // POST /jobs/{id}/retry
        try await admin.send("POST", "/jobs/\(failed)/retry", headers: crlf)  // 400
        try await admin.send("POST", "/jobs/\(failed)/retry", op: nil, user: "u1")  // 401
        try await admin.send("POST", "/jobs/job-9999/retry")  // 404
        try await admin.send("POST", "/jobs/\(queued)/retry")  // 409
        admin.api.jobs.faults.failNext(.get, with: down)
        try await admin.send("POST", "/jobs/\(failed)/retry")  // default
        try await admin.send("POST", "/jobs/\(failed)/retry")  // 202

        // GET /workers, POST /workers/pause and /workers/resume
        try await admin.send("GET", "/workers")  // 200, never changed
        try await admin.send("GET", "/workers", query: [URLQueryItem(name: "all", value: "1")])  // 400
        try await admin.send("GET", "/workers", op: nil)  // 401
        admin.control.faults.failNext(.workerControl, with: down)
        try await admin.send("GET", "/workers")  // default
        for action in ["pause", "resume"] {
            try await admin.send("POST", "/workers/\(action)", body: #"{"reason":"maintenance"}"#)  // 200
            try await admin.send("POST", "/workers/\(action)")  // 200 without a body
            try await admin.send("POST", "/workers/\(action)", body: #"{"why":"x"}"#)  // 400
            try await admin.send("POST", "/workers/\(action)", op: nil)  // 401
            try await admin.send("POST", "/workers/\(action)", body: #"{"reason":""# + String(repeating: "x", count: 300) + #""}"#)  // 413
            try await admin.send("POST", "/workers/\(action)", headers: [("Content-Type", "text/plain")], body: "x")  // 415
            admin.control.faults.failNext(.setWorkerControl, with: down)
            try await admin.send("POST", "/workers/\(action)")  // default
        }
        try await admin.send("GET", "/workers")  // 200, changed by alice

        // Outside the documented operations: unrouted paths and undocumented methods
        try await admin.send("GET", "/nowhere")
        try await admin.send("DELETE", "/jobs")
        try await admin.send("PUT", "/workers")
        try await admin.send("GET", "/jobs/\(failed)/retry")

        // 501: a job store that cannot list across owners, ports without a WorkerControlStore
        let bare = AdminHarness(workerControl: false, jobStore: OwnerScopedJobStore(inner: InMemoryJobStore()))
        try await bare.send("GET", "/jobs")  // 501
        try await bare.send("GET", "/workers")  // 501
        try await bare.send("POST", "/workers/pause")  // 501
        try await bare.send("POST", "/workers/resume")  // 501
        #expect(bare.recorder.all.map(\.status) == [501, 501, 501, 501])

        try ContractTests.runChecker(
            document: "Docs/admin-openapi.yaml", exchanges: admin.recorder.all + bare.recorder.all, served: admin.handler.servedRoutes)
    }
}

/// A job store with only the port's required listings: listing across owners is the port's default
/// (`unsupported`).
struct OwnerScopedJobStore: ForwardingJobStore {
    let inner: InMemoryJobStore
}
