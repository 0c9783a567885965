import ExportCore
import Foundation

/// Checks that a `ScheduleStore` keeps every promise of the port's "Implementation requirements".
///
/// ```swift
/// @Test func conforms() async throws {
///     try await ScheduleStoreConformance { try MyScheduleStore(connection) }.run()
/// }
/// ```
///
/// Each case gets a store from `makeStore` and uses random ids and owners, with dates around the year
/// 2000, so a shared store's other data is neither seen nor changed.
public struct ScheduleStoreConformance: Sendable {
    let makeStore: @Sendable () async throws -> any ScheduleStore
    let concurrentWriters: Int

    /// Creates the suite.
    ///
    /// - Parameters:
    ///   - concurrentWriters: How many writers race in the compare-and-swap case (at least 2); 8 by default.
    ///   - makeStore: Makes the store under test; called once per case.
    public init(concurrentWriters: Int = 8, makeStore: @escaping @Sendable () async throws -> any ScheduleStore) {
        self.makeStore = makeStore
        self.concurrentWriters = max(2, concurrentWriters)
    }

    /// Runs every case.
    ///
    /// - Throws: ``ConformanceFailure`` at the first broken requirement, or the store's own error.
    public func run() async throws {
        try await runCase("ScheduleStore", "create stores version 1 and refuses a taken id", createAndGet)
        try await runCase("ScheduleStore", "update is compare-and-swap", compareAndSwap)
        try await runCase("ScheduleStore", "one of many racing writers wins each version", racingWriters)
        try await runCase("ScheduleStore", "delete, with and without a version", delete)
        try await runCase("ScheduleStore", "owner listing is scoped, oldest first, paged", listing)
        try await runCase("ScheduleStore", "due returns unpaused schedules whose next run has come", due)
    }

    static let base = Date(timeIntervalSince1970: 946_684_800)  // 2000-01-01T00:00:00Z

    static func schedule(owner: UserID, createdAt: Date = base, startsAt: Date = base) throws -> ExportSchedule {
        try ExportSchedule(
            id: .random(), owner: owner, name: "conformance", recipient: EmailAddress("conformance@example.com")!,
            options: ExportOptions(format: .csv, columns: ExportColumn.standard), recurrence: .every(.seconds(3600)),
            timeZone: "UTC", startsAt: startsAt, createdAt: createdAt)
    }

    static func owner() -> UserID { UserID("conformance-\(JobID.random().rawValue)") }

    func createAndGet() async throws {
        let store = try await makeStore()
        let schedule = try Self.schedule(owner: Self.owner())
        let stored = try await store.create(schedule)
        try check(stored.version == 1, "create stored version \(stored.version), not 1")
        let read = try require(try await store.get(schedule.id), "get did not find the created schedule")
        try check(read == stored, "get returned \(read), not what create stored")
        var other = schedule
        other.name = "another"
        try await expectError([.alreadyExists], "create with a taken id") { try await store.create(other) }
        try check(try await store.get(schedule.id)?.name == "conformance", "a refused create changed the stored schedule")
        try check(try await store.get(.random()) == nil, "get found a schedule that was never created")
    }

    func compareAndSwap() async throws {
        let store = try await makeStore()
        let stored = try await store.create(try Self.schedule(owner: Self.owner()))
        var change = stored
        change.paused = true
        change.owner = "someone-else"
        let updated = try await store.update(change)
        try check(updated.version == 2 && updated.paused, "update returned version \(updated.version), paused \(updated.paused)")
        try check(updated.owner == stored.owner, "update changed the owner")
        var stale = stored
        stale.name = "stale"
        try await expectError([.versionConflict], "update from a stale version") { try await store.update(stale) }
        try check(try await store.get(stored.id)?.name == "conformance", "a conflicting update changed the record")
        var missing = try Self.schedule(owner: Self.owner())
        missing.version = 1
        try await expectError([.notFound], "update of a missing schedule") { try await store.update(missing) }
    }

    func racingWriters() async throws {
        let store = try await makeStore()
        let stored = try await store.create(try Self.schedule(owner: Self.owner()))
        let writers = concurrentWriters
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<writers {
                group.addTask {
                    var change = stored
                    change.runCount = index + 1
                    do {
                        _ = try await store.update(change)
                        return true
                    } catch let error as ExportError where error.code == .versionConflict {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        try check(wins == 1, "\(wins) of \(writers) writers from the same version succeeded; exactly one must")
        try check(try await store.get(stored.id)?.version == 2, "the race did not end at version 2")
    }

    func delete() async throws {
        let store = try await makeStore()
        let stored = try await store.create(try Self.schedule(owner: Self.owner()))
        try await expectError([.versionConflict], "delete at a stale version") { try await store.delete(stored.id, version: 7) }
        try check(try await store.get(stored.id) != nil, "a refused delete removed the schedule")
        try check(try await store.delete(stored.id, version: 1), "delete at the stored version did not delete")
        try check(try await store.get(stored.id) == nil, "a deleted schedule is still there")
        try check(try await !store.delete(stored.id, version: nil), "deleting a missing schedule reported a deletion")
    }

    func listing() async throws {
        let store = try await makeStore()
        let owner = Self.owner()
        var created: [ExportSchedule] = []
        for index in 0..<7 {
            created.append(try await store.create(try Self.schedule(owner: owner, createdAt: Self.base.addingTimeInterval(Double(index % 3)))))
        }
        _ = try await store.create(try Self.schedule(owner: Self.owner()))
        var listed: [ExportSchedule] = []
        var cursor: PageCursor?
        for _ in 0..<20 {
            let page = try await store.list(owner: owner, after: cursor, limit: 3)
            try check(page.items.count <= 3, "a page held \(page.items.count) schedules, more than the limit")
            listed += page.items
            cursor = page.next
            if cursor == nil { break }
        }
        let expected = created.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.map(\.id)
        try check(listed.map(\.id) == expected, "listing gave \(listed.map(\.id)), expected \(expected) (oldest first, then id)")
        try await expectError([.invalidRequest], "a limit of 0") { try await store.list(owner: owner, after: nil, limit: 0) }
    }

    func due() async throws {
        let store = try await makeStore()
        let owner = Self.owner()
        let early = try await store.create(try Self.schedule(owner: owner, startsAt: Self.base))
        let later = try await store.create(try Self.schedule(owner: owner, startsAt: Self.base.addingTimeInterval(600)))
        var paused = try Self.schedule(owner: owner, startsAt: Self.base)
        paused.paused = true
        _ = try await store.create(paused)
        _ = try await store.create(try Self.schedule(owner: owner, startsAt: Self.base.addingTimeInterval(3600)))
        let now = Self.base.addingTimeInterval(900)
        let found = try await store.due(at: now, limit: 1000).filter { $0.owner == owner }
        try check(found.map(\.id) == [early.id, later.id], "due gave \(found.map(\.id)), expected the two unpaused due ones, earliest first")
    }
}
