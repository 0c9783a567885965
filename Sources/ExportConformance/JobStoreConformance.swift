import ExportCore
import Foundation

/// Checks that a `JobStore` keeps every promise of the port's "Implementation requirements".
///
/// Run it from a test against your adapter; it throws a ``ConformanceFailure`` naming the first broken
/// requirement:
///
/// ```swift
/// @Test func conforms() async throws {
///     try await JobStoreConformance { try await MyJobStore.connect(to: testDatabase) }.run()
/// }
/// ```
///
/// Each case gets a fresh store from `makeStore`. Against a shared durable service, a store may keep
/// data between cases: the suite uses random ids and owners and dates around the year 2000, so it
/// neither collides with nor deletes other data (`JobStore/expired(now:limit:)`, `JobStore/unnotified(updatedBefore:limit:)` and
/// `JobStore/stale(in:updatedBefore:limit:)` are called with cut-offs in 2000).
public struct JobStoreConformance: Sendable {
    /// How hard the suite pushes the store.
    public struct Configuration: Sendable {
        /// How many concurrent writers race in the compare-and-swap and unique-key cases (at least 2).
        public var concurrentWriters: Int
        /// How many jobs the listing case stores for one owner.
        public var listedJobs: Int
        /// Whether the store lists jobs across owners (`JobStore.jobs(matching:after:limit:)`); when
        /// `false`, the suite checks that it throws `ExportError.Code.unsupported` instead.
        public var listsAcrossOwners: Bool

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - concurrentWriters: Concurrent racers; 8 by default.
        ///   - listedJobs: Jobs in the listing case; 13 by default.
        ///   - listsAcrossOwners: Whether the store lists across owners; `true` by default.
        public init(concurrentWriters: Int = 8, listedJobs: Int = 13, listsAcrossOwners: Bool = true) {
            self.concurrentWriters = max(2, concurrentWriters)
            self.listedJobs = max(3, listedJobs)
            self.listsAcrossOwners = listsAcrossOwners
        }
    }

    let configuration: Configuration
    let makeStore: @Sendable () async throws -> any JobStore

    /// Creates the suite.
    ///
    /// - Parameters:
    ///   - configuration: How hard to push; defaults suit an in-memory or local store.
    ///   - makeStore: Makes the store under test; called once per case.
    public init(
        configuration: Configuration = Configuration(),
        makeStore: @escaping @Sendable () async throws -> any JobStore
    ) {
        self.configuration = configuration
        self.makeStore = makeStore
    }

    /// Runs every case.
    ///
    /// - Throws: ``ConformanceFailure`` at the first broken requirement, or the store's own error when
    ///   it fails where it should not.
    public func run() async throws {
        try await runCase("JobStore", "create is idempotent by id", createIsIdempotentByID)
        try await runCase("JobStore", "unique key is held by one live job", uniqueKey)
        try await runCase("JobStore", "update is a compare-and-swap", compareAndSwap)
        try await runCase("JobStore", "concurrent updates have one winner", concurrentUpdates)
        try await runCase("JobStore", "concurrent creates with one key have one winner", concurrentCreates)
        try await runCase("JobStore", "owner listing", listing)
        try await runCase("JobStore", "listing across owners", listingAcrossOwners)
        try await runCase("JobStore", "stale", stale)
        try await runCase("JobStore", "expiry", expiry)
        try await runCase("JobStore", "unnotified", unnotified)
    }

    // MARK: Fixtures

    static let epoch = Date(timeIntervalSince1970: 946_684_800)  // 2000-01-01T00:00:00Z

    private struct Fixture {
        let token = runToken()
        var counter = 0

        mutating func job(
            owner: UserID? = nil,
            createdAt: Date = JobStoreConformance.epoch,
            uniqueKey: String? = nil
        ) throws -> ExportJob {
            counter += 1
            let id = try require(JobID("conformance-\(token)-\(counter)"), "could not make a job id")
            let recipient = try require(EmailAddress("conformance@example.com"), "could not make an address")
            return ExportJob(
                id: id, owner: owner ?? UserID("owner-\(token)"), recipient: recipient,
                options: ExportOptions(), createdAt: createdAt, uniqueKey: uniqueKey
            )
        }
    }

    private static func cancelled(_ job: ExportJob) throws -> ExportJob {
        var job = job
        _ = try job.lifecycle.requestCancel()
        return job
    }

    // MARK: Cases

    private func createIsIdempotentByID() async throws {
        let store = try await makeStore()
        var fixture = Fixture()
        let job = try fixture.job()
        let created = try await store.create(job)
        guard case .created(let stored) = created else {
            throw ConformanceFailure("creating a new job returned \(created)", location: "create")
        }
        try check(stored.version == 1, "a created job must have version 1, got \(stored.version)")
        try check(stored.id == job.id && stored.owner == job.owner, "create returned another job")
        let read = try await store.get(job.id)
        try check(read == stored, "get after create returned \(String(describing: read)), expected \(stored)")

        var altered = job
        altered.rowsWritten = 42
        let again = try await store.create(altered)
        guard case .existing(let existing) = again else {
            throw ConformanceFailure("creating an existing id again returned \(again), expected .existing", location: "create")
        }
        try check(existing == stored, "a second create must return the stored job unchanged, got \(existing)")
        let reread = try await store.get(job.id)
        try check(reread == stored, "a second create with the same id changed the stored job")
        let missing = try await store.get(try fixture.job().id)
        try check(missing == nil, "get of a never-created id returned \(String(describing: missing))")
    }

    private func uniqueKey() async throws {
        let store = try await makeStore()
        var fixture = Fixture()
        let key = "key-\(fixture.token)"
        let first = try await store.create(try fixture.job(uniqueKey: key)).job
        let rival = try fixture.job(uniqueKey: key)
        let outcome = try await store.create(rival)
        guard case .existing(let holder) = outcome else {
            throw ConformanceFailure("a second live job took unique key \(key): \(outcome)", location: "uniqueKey")
        }
        try check(holder.id == first.id, "create returned \(holder.id) instead of the key's holder \(first.id)")
        let rivalStored = try await store.get(rival.id)
        try check(rivalStored == nil, "the job that lost the unique key was stored anyway")

        let other = try await store.create(try fixture.job(uniqueKey: "other-\(fixture.token)"))
        guard case .created = other else {
            throw ConformanceFailure("a job with a different key was refused: \(other)", location: "uniqueKey")
        }

        _ = try await store.update(try Self.cancelled(first))
        let afterTerminal = try await store.create(rival)
        guard case .created(let successor) = afterTerminal else {
            throw ConformanceFailure(
                "the unique key was not released when its job became terminal: \(afterTerminal)", location: "uniqueKey"
            )
        }
        try check(successor.id == rival.id, "the successor has the wrong id")
        let third = try await store.create(try fixture.job(uniqueKey: key))
        try check(third.job.id == rival.id, "the key's new holder was not returned: \(third)")
    }

    private func compareAndSwap() async throws {
        let store = try await makeStore()
        var fixture = Fixture()
        let v1 = try await store.create(try fixture.job()).job
        var change = v1
        change.rowsWritten = 10
        change.updatedAt = v1.updatedAt.addingTimeInterval(1)
        let v2 = try await store.update(change)
        try check(v2.version == 2, "an update of version 1 must return version 2, got \(v2.version)")
        try check(v2.rowsWritten == 10, "the update's content was not stored")
        let read = try await store.get(v1.id)
        try check(read == v2, "get after update returned \(String(describing: read)), expected \(v2)")

        var stale = v1
        stale.rowsWritten = 99
        try await expectError([.versionConflict], "an update based on a stale version") { try await store.update(stale) }
        let unchanged = try await store.get(v1.id)
        try check(unchanged == v2, "a conflicting update changed the stored job")

        var future = v2
        future.version = 7
        try await expectError([.versionConflict], "an update based on a version never stored") { try await store.update(future) }

        let ghost = try fixture.job()
        try await expectError([.notFound], "an update of a job that does not exist") { try await store.update(ghost) }
        let ghostRead = try await store.get(ghost.id)
        try check(ghostRead == nil, "an update of a missing job created it")

        var moved = v2
        moved.owner = UserID("thief-\(fixture.token)")
        moved.createdAt = v2.createdAt.addingTimeInterval(3600)
        if let v3 = try? await store.update(moved) {
            try check(v3.owner == v1.owner, "an update changed the job's owner")
            try check(v3.createdAt == v1.createdAt, "an update changed the job's creation time")
            let read = try await store.get(v1.id)
            try check(read?.owner == v1.owner, "an update changed the stored job's owner")
        }
    }

    private func concurrentUpdates() async throws {
        let store = try await makeStore()
        var fixture = Fixture()
        let v1 = try await store.create(try fixture.job()).job
        let writers = configuration.concurrentWriters
        let outcomes = try await withThrowingTaskGroup(of: Result<ExportJob, ExportError>.self) { group in
            for index in 0..<writers {
                var change = v1
                change.rowsWritten = Int64(index + 1)
                group.addTask {
                    do { return .success(try await store.update(change)) } catch let error as ExportError {
                        return .failure(error)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { try? $0.get() }
        try check(winners.count == 1, "\(winners.count) of \(writers) concurrent updates of version 1 succeeded; exactly 1 must")
        for case .failure(let error) in outcomes {
            try check(error.code == .versionConflict, "a losing concurrent update threw \(error), expected versionConflict")
        }
        let stored = try require(try await store.get(v1.id), "the job vanished")
        try check(stored.version == 2, "after one winning update the version must be 2, got \(stored.version)")
        try check(stored.rowsWritten == winners[0].rowsWritten, "the stored content is not the winner's")
    }

    private func concurrentCreates() async throws {
        let store = try await makeStore()
        var fixture = Fixture()
        let key = "race-\(fixture.token)"
        let jobs = try (0..<configuration.concurrentWriters).map { _ in try fixture.job(uniqueKey: key) }
        let outcomes = try await withThrowingTaskGroup(of: JobCreation.self) { group in
            for job in jobs { group.addTask { try await store.create(job) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let created = outcomes.filter { if case .created = $0 { true } else { false } }
        try check(created.count == 1, "\(created.count) concurrent creates with one unique key succeeded; exactly 1 must")
        let winner = created[0].job.id
        try check(outcomes.allSatisfy { $0.job.id == winner }, "a losing create did not return the winner")
        for job in jobs where job.id != winner {
            let read = try await store.get(job.id)
            try check(read == nil, "a losing create stored job \(job.id)")
        }
    }
}
