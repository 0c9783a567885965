import ExportAdapters
import ExportCore
import Foundation
import Synchronization
import Testing

/// Every port in memory on one manual clock, plus a service, a reconciler and worker factories.
struct Harness {
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    static let lease = Duration.seconds(60)

    let clock = ManualClock(now: Harness.t0)
    let jobs = InMemoryJobStore()
    let queue: InMemoryQueue
    let blobs: InMemoryBlobStore
    let notifier = InMemoryNotifier()
    let source: InMemoryMembershipSource
    let events = EventLog()
    let service: ExportService
    let policy: RetryPolicy

    init(
        memberships: [Membership] = Harness.sampleMemberships,
        rateLimit: ExportService.RateLimit? = nil,
        policy: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .seconds(10), maxDelay: .seconds(60), jitter: .none),
        attributeColumns: [String] = ["seats"]
    ) {
        queue = InMemoryQueue(clock: clock)
        blobs = InMemoryBlobStore(clock: clock)
        source = InMemoryMembershipSource(memberships)
        self.policy = policy
        let ids = SeededIDs()
        service = try! ExportService(
            ports: ExportPorts(
                jobStore: jobs, queue: queue, blobStore: blobs, notifier: notifier, clock: clock, observer: events,
                settings: Harness.settings),
            configuration: .init(attributeColumns: attributeColumns, rateLimit: rateLimit, makeJobID: { ids.next() }))
    }

    /// The harness's shared settings: links last an hour.
    static let settings = ExportSettings(linkLifetime: .seconds(3600))

    /// The harness's ports, with any of them replaced.
    func ports(
        jobStore: (any JobStore)? = nil, queue: (any Queue)? = nil, notifier: (any Notifier)? = nil, clock: (any ExportClock)? = nil
    ) -> ExportPorts {
        ExportPorts(
            jobStore: jobStore ?? jobs, queue: queue ?? self.queue, blobStore: blobs, notifier: notifier ?? self.notifier, clock: clock ?? self.clock,
            observer: events, settings: Harness.settings)
    }

    /// A worker on the harness's ports. `clock` overrides the worker's own clock: a frozen clock (one
    /// nobody advances) models a stalled process whose heartbeats stop while the world moves on.
    func worker(
        source: (any MembershipSource)? = nil, jobStore: (any JobStore)? = nil, queue: (any Queue)? = nil, notifier: (any Notifier)? = nil,
        clock: (any ExportClock)? = nil, concurrency: Int = 2, pageSize: Int = 2, maxDeliveries: Int? = nil
    ) -> ExportWorker {
        try! ExportWorker(
            ports: ports(jobStore: jobStore, queue: queue, notifier: notifier, clock: clock), source: source ?? self.source,
            configuration: .init(
                concurrency: concurrency, visibilityTimeout: Harness.lease, receiveWaitTime: .zero, idleDelay: .seconds(1),
                retryPolicy: policy, pageSize: pageSize, shutdownGracePeriod: .seconds(30), randomSeed: 7,
                maxDeliveries: maxDeliveries))
    }

    /// A worker whose clock stands still at the current time: it never heartbeats, like a stalled process.
    func stalledWorker(source: any MembershipSource) -> ExportWorker {
        worker(source: source, clock: ManualClock(now: clock.now()))
    }

    /// Waits (bounded) until `count` tasks sleep on the harness clock; records an issue if they never do.
    func waitForSleepers(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) async {
        if await !clock.waitForSleepers(count) {
            Issue.record("expected \(count) sleepers on the clock, found \(clock.sleeperCount)", sourceLocation: sourceLocation)
        }
    }

    func reconciler() -> Reconciler {
        try! Reconciler(ports: ports(), configuration: .init(requeueAfter: .seconds(600)))
    }

    func request(_ owner: UserID = "u1", format: String? = nil, columns: [String]? = nil) async throws -> ExportTicket {
        try await service.request(ExportRequest(owner: owner, recipient: EmailAddress("\(owner)@example.com")!, format: format, columns: columns))
    }

    func job(_ id: JobID) async throws -> ExportJob {
        try #require(await jobs.job(id))
    }

    func file(of id: JobID) async throws -> String? {
        guard let key = try await job(id).result?.blobKey, let bytes = await blobs.contents(of: key) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func date(_ text: String) -> Date {
        try! Date(text + "T00:00:00Z", strategy: .iso8601)
    }

    static let sampleMemberships: [Membership] = [
        Membership(
            membershipID: "m1", userID: "u1", organizationID: "o1", organizationName: "Acme, Inc.", plan: "pro", role: "admin",
            status: "active", startedAt: date("2024-02-29"), renewsAt: date("2026-02-28"),
            amount: ExactDecimal("19.90"), currency: "EUR", attributes: ["seats": "5"]),
        Membership(
            membershipID: "m2", userID: "u1", organizationID: "o2", organizationName: "The \"Quoted\" Club", plan: "free", role: "member",
            status: "cancelled", startedAt: date("2020-01-01"), endedAt: date("2021-06-30")),
        Membership(
            membershipID: "m3", userID: "u1", organizationID: "o3", organizationName: "=HYPERLINK(\"http://evil\")", plan: "team",
            role: "owner", status: "active", startedAt: Date(timeIntervalSince1970: 1_700_000_000.25),
            amount: ExactDecimal("-5"), currency: "USD"),
        Membership(
            membershipID: "m9", userID: "u2", organizationID: "o9", organizationName: "Someone else's", plan: "pro", role: "admin",
            status: "active", startedAt: date("2023-01-01")),
    ]

    /// The CSV of u1's sample memberships with the standard columns, byte for byte.
    static let expectedCSV =
        "membership_id,user_id,organization_id,organization_name,plan,role,status,started_at,ended_at,renews_at,amount,currency\r\n"
        + "m1,u1,o1,\"Acme, Inc.\",pro,admin,active,2024-02-29T00:00:00Z,,2026-02-28T00:00:00Z,19.90,EUR\r\n"
        + "m2,u1,o2,\"The \"\"Quoted\"\" Club\",free,member,cancelled,2020-01-01T00:00:00Z,2021-06-30T00:00:00Z,,,\r\n"
        + "m3,u1,o3,\"'=HYPERLINK(\"\"http://evil\"\")\",team,owner,active,2023-11-14T22:13:20.250Z,,,-5,USD\r\n"
}

/// Records observer events for assertions.
final class EventLog: ExportObserver {
    private let events = Mutex<[ExportEvent]>([])
    func observe(_ event: ExportEvent) { events.withLock { $0.append(event) } }
    var all: [ExportEvent] { events.withLock { $0 } }
    var names: [String] { all.filter { $0.name != .progress && $0.name != .stopped }.map(\.name.rawValue) }
}

/// A membership source that holds every page call at a gate until the test opens it, so a test can
/// act while an export is in the middle of running. Waiting honours task cancellation.
final class GatedSource: MembershipSource {
    private struct State {
        var open = false
        var waiting: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var arrivals = 0
        var nextID: UInt64 = 0
    }

    private let inner: any MembershipSource
    private let state = Mutex(State())
    private let arrived: AsyncStream<Void>.Continuation
    private let arrivals: AsyncStream<Void>
    private let interruption: @Sendable () -> any Error

    /// - Parameters:
    ///   - inner: Where rows come from once the gate opens.
    ///   - interruption: What a held call throws when its task is cancelled; `CancellationError` by
    ///     default (an adapter may surface its own error instead, as a file lock wait does).
    init(_ inner: any MembershipSource, interruption: @escaping @Sendable () -> any Error = { CancellationError() }) {
        self.inner = inner
        self.interruption = interruption
        (arrivals, arrived) = AsyncStream<Void>.makeStream()
    }

    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let passNow = state.withLock { state -> Bool in
                    if state.open { return true }
                    state.waiting[id] = continuation
                    state.arrivals += 1
                    return false
                }
                if passNow { continuation.resume() } else { arrived.yield() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiting.removeValue(forKey: id) }
            continuation?.resume(throwing: interruption())
        }
        return try await inner.memberships(of: owner, after: cursor, limit: limit)
    }

    /// Waits until a page call is held at the gate.
    func waitForArrival() async {
        var iterator = arrivals.makeAsyncIterator()
        _ = await iterator.next()
    }

    /// Lets every held and future call through.
    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Makes every held call fail, as if the worker's process had died there.
    func fail(with error: any Error) {
        let waiting = state.withLock { state in
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for continuation in waiting { continuation.resume(throwing: error) }
    }
}

/// Deterministic job ids, so test output is reproducible.
final class SeededIDs: Sendable {
    private let generator = Mutex(SplitMix64(seed: 99))
    func next() -> JobID { generator.withLock { JobID.random(using: &$0) } }
}

/// A notifier whose sends wait until ``open()``; ``waitForArrival()`` returns once one is waiting.
final class SlowNotifier: Notifier {
    private let inner: any Notifier
    private let gate = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
    private let arrived: AsyncStream<Void>.Continuation
    private let arrivals: AsyncStream<Void>

    init(_ inner: any Notifier) {
        self.inner = inner
        (arrivals, arrived) = AsyncStream<Void>.makeStream()
    }

    func send(_ notification: ExportNotification) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resume = gate.withLock { gate -> Bool in
                if gate.open { return true }
                gate.waiting.append(continuation)
                return false
            }
            arrived.yield()
            if resume { continuation.resume() }
        }
        try await inner.send(notification)
    }

    func waitForArrival() async {
        for await _ in arrivals { return }
    }

    func open() {
        let waiting = gate.withLock { gate -> [CheckedContinuation<Void, Never>] in
            gate.open = true
            defer { gate.waiting = [] }
            return gate.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
