import ExportAdapters
import ExportCore
@testable import ExportHTTPAPI
import Foundation
import Synchronization
import Testing

/// The handler on the in-memory adapters and one manual clock, mounted under `/api/v1`, with a
/// blob store whose links point at the handler's own signed-download route (as a file-system
/// blob store's do). Every exchange is recorded for the OpenAPI contract check.
struct APIHarness {
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    static let base = "/api/v1"

    let clock = ManualClock(now: APIHarness.t0)
    let jobs = InMemoryJobStore()
    let queue: InMemoryQueue
    let memory: InMemoryBlobStore
    let files: SignedLinkStore
    let source: InMemoryMembershipSource
    let service: ExportService
    let schedules = InMemoryScheduleStore()
    /// The schedule store the service uses: `schedules`, with a fault to inject.
    let scheduleFaults: FaultyScheduleStore
    /// Fires due schedule occurrences on the harness's stores.
    let scheduler: ExportScheduler
    let handler: ExportAPIHandler
    let recorder = ExchangeRecorder()
    /// Every event the service and the worker emitted: what a host would log or count.
    let events = EventRecorder()

    init(
        rateLimit: ExportService.RateLimit? = nil, maxBodyBytes: Int = 16 * 1024, signedDownloads: Bool = true,
        recipient: @escaping @Sendable (UserID) async throws -> EmailAddress = { try EmailAddress(validating: "\($0.rawValue)@example.com") }
    ) {
        queue = InMemoryQueue(clock: clock)
        memory = InMemoryBlobStore(clock: clock, readChunkSize: 7)
        files = SignedLinkStore(inner: memory, clock: clock, prefix: "http://files.test\(APIHarness.base)/downloads")
        source = InMemoryMembershipSource(APIHarness.memberships)
        let ids = SequentialIDs()
        scheduleFaults = FaultyScheduleStore(base: schedules)
        let ports = ExportPorts(
            jobStore: jobs, queue: queue, blobStore: files, notifier: InMemoryNotifier(), clock: clock, observer: events,
            settings: ExportSettings(linkLifetime: .seconds(3600)), scheduleStore: scheduleFaults)
        var serviceConfiguration = ExportService.Configuration(attributeColumns: ["seats"], rateLimit: rateLimit, makeJobID: { ids.next() })
        serviceConfiguration.maxSchedulesPerOwner = 3
        service = try! ExportService(ports: ports, configuration: serviceConfiguration)
        scheduler = try! ExportScheduler(ports: ports)
        let configuration = ExportAPIHandler.Configuration(basePath: APIHarness.base + "/", maxBodyBytes: maxBodyBytes)
        if signedDownloads {
            // A fixed, valid configuration: this cannot throw.
            handler = try! ExportAPIHandler(
                service: service, recipient: recipient, signedDownloads: .init(files), configuration: configuration)
        } else {
            handler = ExportAPIHandler(service: service, recipient: recipient, configuration: configuration)
        }
    }

    /// Sends a request and records the exchange.
    @discardableResult
    func send(
        _ method: String, _ path: String, query: [URLQueryItem] = [], headers: [(name: String, value: String)] = [],
        body: String? = nil, user: UserID? = "u1"
    ) async throws -> Exchange {
        var headers = headers
        if body != nil, !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(("Content-Type", "application/json"))
        }
        let request = APIRequest(
            method: method, path: APIHarness.base + path, query: query, headers: headers, body: Array((body ?? "").utf8),
            principal: user)
        let response = await handler.handle(request)
        let bytes = try await response.body.collect()
        if case .stream(_, let length) = response.body { #expect(Int64(bytes.count) == length) }
        let route = APIRoute.match(Substring(path), downloadPath: "/downloads", signedDownloads: true)
        let exchange = Exchange(
            method: method, template: route?.template(downloadPath: "/downloads"), response: response, body: bytes,
            requestBody: body)
        recorder.record(exchange)
        return exchange
    }

    /// Runs every queued job once.
    func runWorker(source: (any MembershipSource)? = nil) async {
        let worker = try! ExportWorker(
            ports: ExportPorts(
                jobStore: jobs, queue: queue, blobStore: files, notifier: InMemoryNotifier(), clock: clock, observer: events,
                settings: ExportSettings(linkLifetime: .seconds(3600))),
            source: source ?? self.source,
            configuration: .init(
                concurrency: 2, visibilityTimeout: .seconds(60), receiveWaitTime: .zero, idleDelay: .seconds(1),
                retryPolicy: RetryPolicy(maxAttempts: 1, baseDelay: .seconds(1), maxDelay: .seconds(1), jitter: .none),
                pageSize: 2, shutdownGracePeriod: .seconds(5), randomSeed: 1))
        _ = try? await worker.processAvailable()
    }

    /// Requests an export for `user` and runs it to success.
    func succeededExport(_ user: UserID = "u1") async throws -> String {
        let id = try await send("POST", "/exports", user: user).string("id")
        await runWorker()
        let jobID = try #require(JobID(id))
        let job = await jobs.job(jobID)
        #expect(job?.state == .succeeded, "\(String(describing: job))")
        return id
    }

    /// Follows `GET /exports/{id}/download` and returns the minted link's path (below the base path)
    /// and query.
    func mintedLink(_ id: String) async throws -> (path: String, query: [URLQueryItem]) {
        let location = try #require(try await send("GET", "/exports/\(id)/download").header("Location"))
        let url = try #require(URLComponents(string: location))
        return (String(url.path.dropFirst(APIHarness.base.count)), url.queryItems ?? [])
    }

    /// Puts a queued job into `running`, as a worker's claim would.
    func markRunning(_ id: String) async throws {
        let jobID = try #require(JobID(id))
        var job = try #require(await jobs.job(jobID))
        _ = job.lifecycle.claim(now: clock.now(), lease: .seconds(60), maxInterruptions: 3)
        _ = try await jobs.update(job)
    }

    /// Fails a queued job's first attempt retryably, as a worker would: `retry_scheduled`, next
    /// attempt in 30 seconds.
    func markRetryScheduled(_ id: String) async throws {
        try await markRunning(id)
        let jobID = try #require(JobID(id))
        var job = try #require(await jobs.job(jobID))
        var random = SystemRandomNumberGenerator()  // unused: the policy has no jitter
        _ = try job.lifecycle.fail(
            retryable: true, reason: "upstream 503", policy: RetryPolicy(maxAttempts: 3, baseDelay: .seconds(30), maxDelay: .seconds(30), jitter: .none),
            now: clock.now(), using: &random)
        job.failure = ExportFailure(code: "unavailable", reason: "HTTP 503 from 10.0.0.9")
        _ = try await jobs.update(job)
    }

    static let memberships: [Membership] = [
        Membership(
            membershipID: "m1", userID: "u1", organizationID: "o1", organizationName: "Acme, Inc.", plan: "pro", role: "admin",
            status: "active", startedAt: t0, attributes: ["seats": "5"]),
        Membership(
            membershipID: "m2", userID: "u1", organizationID: "o2", organizationName: "Club", plan: "free", role: "member",
            status: "active", startedAt: t0),
        Membership(
            membershipID: "m9", userID: "u2", organizationID: "o9", organizationName: "Other", plan: "pro", role: "admin",
            status: "active", startedAt: t0),
    ]
}

/// One request's response, its collected body and its route template.
struct Exchange: Sendable {
    let method: String
    let template: String?
    let response: APIResponse
    let body: [UInt8]
    /// The request's body, for checking accepted bodies against the document's request schema.
    var requestBody: String? = nil

    var status: Int { response.status }
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? { response.header(name) }

    /// The body as a JSON object.
    func object() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// A top-level string member.
    func string(_ key: String) throws -> String {
        try #require(try object()[key] as? String, "no string \(key) in \(text)")
    }

    /// The `name`s of the problem's `invalid-params`.
    func invalidParams() throws -> [String] {
        let params = try #require(try object()["invalid-params"] as? [[String: Any]], "no invalid-params in \(text)")
        return params.compactMap { $0["name"] as? String }
    }
}

/// Collects exchanges for the contract check.
final class ExchangeRecorder: Sendable {
    private let exchanges = Mutex<[Exchange]>([])
    func record(_ exchange: Exchange) { exchanges.withLock { $0.append(exchange) } }
    var all: [Exchange] { exchanges.withLock { $0 } }
}

/// Collects every ``ExportEvent``, as a host's logging bridge would see it.
final class EventRecorder: ExportObserver {
    private let events = Mutex<[ExportEvent]>([])
    func observe(_ event: ExportEvent) { events.withLock { $0.append(event) } }
    var all: [ExportEvent] { events.withLock { $0 } }
}

/// Job ids `job-0001`, `job-0002`, … so responses are predictable.
final class SequentialIDs: Sendable {
    private let counter = Mutex(0)
    func next() -> JobID {
        let value = counter.withLock { count -> Int in
            count += 1
            return count
        }
        return JobID("job-" + String(repeating: "0", count: max(0, 4 - String(value).count)) + String(value))!
    }
}
