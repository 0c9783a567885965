import Foundation

/// A durable recurrence of one owner's export: what to export, to whom, and when.
///
/// Schedules are values kept by a ``ScheduleStore``, which bumps ``version`` on every update
/// (compare-and-swap, like jobs). ``nextRunAt`` is the one moving part: a scheduler fires the
/// occurrence it names and moves it on, in one compare-and-swap, with ``advance(now:lateness:)``.
public struct ExportSchedule: Hashable, Sendable, Codable, Identifiable {
    /// The schedule's identifier.
    public var id: ScheduleID
    /// The user who owns it; the only user who may see or change it.
    public var owner: UserID
    /// A name for people, shown in the status and the e-mail of each run (such as "Monthly report").
    public var name: String
    /// Where each run's e-mail goes.
    public var recipient: EmailAddress
    /// The format and resolved columns of each run.
    public var options: ExportOptions
    /// When it fires.
    public var recurrence: ExportRecurrence
    /// The IANA time zone a cron recurrence is read in (such as `Europe/London`).
    public var timeZone: String
    /// Nothing fires before this; intervals count from it.
    public var startsAt: Date
    /// Nothing fires at or after this, if set.
    public var endsAt: Date?
    /// The most runs it makes, if set.
    public var maxRuns: Int?
    /// What happens to occurrences missed while no scheduler ran.
    public var catchUp: CatchUpPolicy
    /// The time range each run covers, computed from its occurrence (``range(for:)``), or `nil` to
    /// export every membership on every run.
    public var window: ScheduleWindow?
    /// A paused schedule fires nothing; on resume, missed occurrences follow ``catchUp``.
    public var paused: Bool
    /// The next occurrence to fire, or `nil` once the schedule has ended.
    public var nextRunAt: Date?
    /// How many runs it has made.
    public var runCount: Int
    /// The occurrence (slot) of the last run.
    public var lastRunAt: Date?
    /// The job of the last run.
    public var lastJobID: JobID?
    /// How many occurrences were passed over (missed and skipped, or older than the latest caught up);
    /// exact up to 10,000 in one catch-up, a lower bound past that.
    public var skippedCount: Int
    /// When the schedule was created.
    public var createdAt: Date
    /// When the record last changed.
    public var updatedAt: Date
    /// The store's version, bumped on every successful update. Zero before it is created.
    public var version: UInt64

    /// Creates a schedule whose first occurrence is the first at or after `startsAt`.
    ///
    /// - Parameters:
    ///   - id: The identifier.
    ///   - owner: The owner.
    ///   - name: A name for people.
    ///   - recipient: Where e-mails go.
    ///   - options: The format and columns.
    ///   - recurrence: When it fires.
    ///   - timeZone: An IANA time zone identifier.
    ///   - startsAt: The start.
    ///   - endsAt: The end, if any.
    ///   - maxRuns: The most runs, if any.
    ///   - catchUp: The catch-up policy; ``CatchUpPolicy/runLatest`` by default.
    ///   - window: The range each run covers, or `nil` for every membership.
    ///   - createdAt: Now.
    /// - Throws: ``ExportError/Code/invalidSchedule`` for an unknown time zone, a bad end or count, or a
    ///   recurrence that never fires.
    public init(
        id: ScheduleID, owner: UserID, name: String, recipient: EmailAddress, options: ExportOptions,
        recurrence: ExportRecurrence, timeZone: String, startsAt: Date, endsAt: Date? = nil, maxRuns: Int? = nil,
        catchUp: CatchUpPolicy = .runLatest, window: ScheduleWindow? = nil, createdAt: Date
    ) throws(ExportError) {
        self.id = id
        self.owner = owner
        self.name = name
        self.recipient = recipient
        self.options = options
        self.recurrence = recurrence
        self.timeZone = timeZone
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.maxRuns = maxRuns
        self.catchUp = catchUp
        self.window = window
        self.paused = false
        self.runCount = 0
        self.skippedCount = 0
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.version = 0
        try validate()
        nextRunAt = try occurrence(after: startsAt.addingTimeInterval(-1))
        guard nextRunAt != nil else {
            throw ExportError(.invalidSchedule, "recurrence \(recurrence) never fires between startsAt and endsAt")
        }
    }

    /// The zone as a `TimeZone`.
    ///
    /// - Throws: ``ExportError/Code/invalidSchedule`` for an identifier Foundation does not know.
    public func zone() throws(ExportError) -> TimeZone {
        guard let zone = TimeZone(identifier: timeZone) else {
            throw ExportError(.invalidSchedule, "timeZone \(String(reflecting: String(timeZone.prefix(60)))) is not an IANA time zone such as Europe/London")
        }
        return zone
    }

    /// Checks the fields a user sets.
    ///
    /// - Throws: ``ExportError/Code/invalidSchedule`` naming the field.
    public func validate() throws(ExportError) {
        _ = try zone()
        guard (1...200).contains(name.count) else { throw ExportError(.invalidSchedule, "name must have 1 to 200 characters") }
        if let endsAt, endsAt <= startsAt { throw ExportError(.invalidSchedule, "endsAt must be later than startsAt") }
        if let maxRuns, maxRuns < 1 { throw ExportError(.invalidSchedule, "maxRuns must be at least 1, not \(maxRuns)") }
        if window != nil, options.range != nil {
            throw ExportError(.invalidSchedule, "a schedule has either a window or a fixed range, not both")
        }
    }

    /// The time range the run of an occurrence covers: the ``window``'s, or the fixed
    /// ``ExportOptions/range`` (usually `nil`, every membership).
    ///
    /// A pure function of the record that names `slot` as ``nextRunAt``: every scheduler racing for
    /// the occurrence computes the same range, so its one job is the same whoever creates it.
    ///
    /// - Parameters:
    ///   - slot: The occurrence being run, read from this record before it was advanced.
    /// - Returns: The range, or `nil` for every membership.
    /// - Throws: ``ExportError/Code/invalidSchedule`` for an unknown zone.
    public func range(for slot: Date) throws(ExportError) -> ExportTimeRange? {
        guard let window else { return options.range }
        let previous = recurrence.previous(before: slot, in: try zone())
        let from: Date?
        switch window {
        case .sinceLastRun: from = lastRunAt.flatMap { $0 < slot ? $0 : nil } ?? previous
        default: from = previous
        }
        // A cron expression that had not fired in the thirty years before: everything until the slot.
        return try ExportTimeRange(from: from, to: slot)
    }

    /// The first occurrence strictly after `date` within the schedule's bounds, or `nil`.
    ///
    /// - Parameters:
    ///   - date: The instant to look after.
    /// - Returns: The occurrence.
    /// - Throws: ``ExportError/Code/invalidSchedule`` for an unknown zone.
    public func occurrence(after date: Date) throws(ExportError) -> Date? {
        guard let next = recurrence.next(after: date, start: startsAt, in: try zone()) else { return nil }
        if let endsAt, next >= endsAt { return nil }
        return next
    }

    /// The id of the job an occurrence creates: the same in every process, so the job store's
    /// idempotent create makes each occurrence exactly one job, however many schedulers race for it.
    ///
    /// - Parameters:
    ///   - slot: The occurrence.
    /// - Returns: `s<schedule id>-<slot in Unix seconds>`.
    public func occurrenceJobID(for slot: Date) -> JobID {
        JobID("s\(id.rawValue)-\(Int64(slot.timeIntervalSince1970.rounded(.down)))")!
    }

    /// The unique key of an occurrence's job.
    ///
    /// - Parameters:
    ///   - slot: The occurrence.
    /// - Returns: `schedule:<id>:<slot in Unix seconds>`.
    public func occurrenceKey(for slot: Date) -> String {
        "schedule:\(id.rawValue):\(Int64(slot.timeIntervalSince1970.rounded(.down)))"
    }

    /// What ``advance(now:lateness:)`` decided.
    public struct Step: Hashable, Sendable {
        /// The occurrence to run now, if any.
        public var fire: Date?
        /// How many due occurrences were passed over.
        public var skipped: Int
    }

    /// Moves the schedule past every occurrence due at `now`, and says which one (if any) to run: the
    /// latest due one under ``CatchUpPolicy/runLatest``; under ``CatchUpPolicy/skip`` only one late by at
    /// most `lateness`. A pure step: no I/O, no clock read.
    ///
    /// - Parameters:
    ///   - now: The current time.
    ///   - lateness: How late an occurrence may be and still count as on time.
    /// - Returns: The step, or `nil` when nothing is due (paused, ended or not yet time): then the
    ///   schedule is unchanged.
    /// - Throws: ``ExportError/Code/invalidSchedule`` for an unknown zone.
    public mutating func advance(now: Date, lateness: Duration) throws(ExportError) -> Step? {
        guard !paused, let due = nextRunAt, due <= now else { return nil }
        var latest = due
        var passed = 0
        // Walk occurrence by occurrence (an exact count) for up to 10,000; past that (a minute-by-minute
        // schedule after a week of downtime), jump to the last hour, day, month… before `now`.
        var walked = 0
        while walked < 10_000, let next = try occurrence(after: latest), next <= now {
            latest = next
            passed += 1
            walked += 1
        }
        if walked == 10_000 {
            for window: TimeInterval in [3600, 86400, 32 * 86400, 367 * 86400, 30 * 367 * 86400] {
                if let near = try occurrence(after: now.addingTimeInterval(-window)), near <= now, near > latest {
                    latest = near
                    passed += 1  // at least one more; the exact count is not known across a jump
                    break
                }
            }
            while let next = try occurrence(after: latest), next <= now {
                latest = next
                passed += 1
            }
        }
        let onTime = now.timeIntervalSince(latest) <= JobLifecycle.seconds(lateness)
        let fire: Date? = catchUp == .runLatest || onTime ? latest : nil
        if fire != nil {
            runCount += 1
            lastRunAt = latest
            lastJobID = occurrenceJobID(for: latest)
        } else {
            passed += 1
        }
        skippedCount += passed
        nextRunAt = try occurrence(after: latest)
        if let maxRuns, runCount >= maxRuns { nextRunAt = nil }
        return Step(fire: fire, skipped: passed)
    }

    /// Records a change made at `now`.
    ///
    /// - Parameters:
    ///   - now: The time of the change.
    public mutating func stamp(now: Date) { updatedAt = now }
}
