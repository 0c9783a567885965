import Foundation

extension ExportService {
    /// Whether this service offers schedules (its ports have a ``ExportPorts/scheduleStore``).
    public var offersSchedules: Bool { ports.scheduleStore != nil }

    private func scheduleStore() throws(ExportError) -> any ScheduleStore {
        guard let store = ports.scheduleStore else {
            throw ExportError(.configuration, "this service offers no schedules: ports.scheduleStore is nil")
        }
        return store
    }

    private static func scheduleNotFound(_ id: ScheduleID) -> ExportError { ExportError(.notFound, "no schedule \(id)") }

    /// Creates a schedule for the requester. Each occurrence becomes an ordinary export once an
    /// ``ExportScheduler`` runs.
    ///
    /// - Parameters:
    ///   - request: The request.
    /// - Returns: The stored schedule, with its first ``ExportSchedule/nextRunAt``.
    /// - Throws: ``ExportError/Code/invalidSchedule`` (naming the field), ``ExportError/Code/unsupportedFormat``,
    ///   ``ExportError/Code/unknownColumn``, ``ExportError/Code/rateLimited`` past
    ///   ``Configuration/maxSchedulesPerOwner``, ``ExportError/Code/configuration`` without a schedule
    ///   store, or a port's error.
    public func createSchedule(_ request: ScheduleRequest) async throws -> ExportSchedule {
        let store = try scheduleStore()
        let options = try options(format: request.format, columns: request.columns)
        let now = clock.now()
        let schedule = try ExportSchedule(
            id: configuration.makeScheduleID(), owner: request.owner, name: request.name, recipient: request.recipient,
            options: options, recurrence: request.recurrence, timeZone: request.timeZone, startsAt: request.startsAt ?? now,
            endsAt: request.endsAt, maxRuns: request.maxRuns, catchUp: request.catchUp, window: request.window, createdAt: now)
        let existing = try await store.list(owner: request.owner, after: nil, limit: configuration.maxSchedulesPerOwner)
        guard existing.items.count < configuration.maxSchedulesPerOwner else {
            throw ExportError(.rateLimited, "at most \(configuration.maxSchedulesPerOwner) schedules per user; delete one first", isRetryable: false)
        }
        return try await store.create(schedule)
    }

    /// Reads one of the requester's schedules.
    ///
    /// - Parameters:
    ///   - id: The schedule's id.
    ///   - requester: The authenticated user.
    /// - Returns: The schedule.
    /// - Throws: ``ExportError/Code/notFound`` for an unknown or foreign schedule.
    public func schedule(_ id: ScheduleID, requester: UserID) async throws -> ExportSchedule {
        guard let schedule = try await scheduleStore().get(id), schedule.owner == requester else { throw Self.scheduleNotFound(id) }
        return schedule
    }

    /// Lists the requester's schedules, oldest first.
    ///
    /// - Parameters:
    ///   - requester: The authenticated user.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The most per page (1 to 100).
    /// - Returns: The page.
    /// - Throws: A port's error.
    public func schedules(requester: UserID, after cursor: PageCursor? = nil, limit: Int = 20) async throws -> Page<ExportSchedule> {
        try await scheduleStore().list(owner: requester, after: cursor, limit: min(100, max(1, limit)))
    }

    /// Changes one of the requester's schedules. A change of recurrence, zone or bounds moves the next
    /// run to the first new occurrence after now.
    ///
    /// - Parameters:
    ///   - id: The schedule's id.
    ///   - requester: The authenticated user.
    ///   - change: What to change.
    /// - Returns: The stored schedule.
    /// - Throws: ``ExportError/Code/notFound`` for an unknown or foreign schedule; the errors of
    ///   ``createSchedule(_:)`` for bad values.
    public func updateSchedule(_ id: ScheduleID, requester: UserID, change: ScheduleChange) async throws -> ExportSchedule {
        let now = clock.now()
        let stored = try await scheduleStore().modify(id) { schedule throws(ExportError) in
            guard schedule.owner == requester else { throw Self.scheduleNotFound(id) }
            if let name = change.name { schedule.name = name }
            if let recipient = change.recipient { schedule.recipient = recipient }
            if change.format != nil || change.columns != nil {
                let options = try self.options(
                    format: change.format ?? schedule.options.format.identifier,
                    columns: change.columns ?? schedule.options.columns?.map(\.name))
                schedule.options = options
            }
            var timing = false
            if let recurrence = change.recurrence { schedule.recurrence = recurrence; timing = true }
            if let timeZone = change.timeZone { schedule.timeZone = timeZone; timing = true }
            if let endsAt = change.endsAt { schedule.endsAt = endsAt; timing = true }
            if let maxRuns = change.maxRuns { schedule.maxRuns = maxRuns; timing = true }
            if let catchUp = change.catchUp { schedule.catchUp = catchUp }
            if let window = change.window { schedule.window = window }
            try schedule.validate()
            if timing {
                schedule.nextRunAt = try schedule.occurrence(after: max(now, schedule.startsAt.addingTimeInterval(-1)))
                if let maxRuns = schedule.maxRuns, schedule.runCount >= maxRuns { schedule.nextRunAt = nil }
            }
            schedule.stamp(now: now)
            return true
        }
        guard let stored else { throw Self.scheduleNotFound(id) }
        return stored
    }

    /// Pauses one of the requester's schedules: nothing fires until it is resumed.
    ///
    /// - Parameters:
    ///   - id: The schedule's id.
    ///   - requester: The authenticated user.
    /// - Returns: The stored schedule.
    /// - Throws: ``ExportError/Code/notFound`` for an unknown or foreign schedule.
    public func pauseSchedule(_ id: ScheduleID, requester: UserID) async throws -> ExportSchedule {
        try await setPaused(true, id, requester: requester)
    }

    /// Resumes one of the requester's schedules. Occurrences missed while paused follow its
    /// ``ExportSchedule/catchUp`` policy.
    ///
    /// - Parameters:
    ///   - id: The schedule's id.
    ///   - requester: The authenticated user.
    /// - Returns: The stored schedule.
    /// - Throws: ``ExportError/Code/notFound`` for an unknown or foreign schedule.
    public func resumeSchedule(_ id: ScheduleID, requester: UserID) async throws -> ExportSchedule {
        try await setPaused(false, id, requester: requester)
    }

    private func setPaused(_ paused: Bool, _ id: ScheduleID, requester: UserID) async throws -> ExportSchedule {
        let now = clock.now()
        let stored = try await scheduleStore().modify(id) { schedule throws(ExportError) in
            guard schedule.owner == requester else { throw Self.scheduleNotFound(id) }
            guard schedule.paused != paused else { return false }
            schedule.paused = paused
            schedule.stamp(now: now)
            return true
        }
        guard let stored else { throw Self.scheduleNotFound(id) }
        return stored
    }

    /// Deletes one of the requester's schedules. Runs already made stay as ordinary exports.
    ///
    /// - Parameters:
    ///   - id: The schedule's id.
    ///   - requester: The authenticated user.
    /// - Throws: ``ExportError/Code/notFound`` for an unknown or foreign schedule.
    public func deleteSchedule(_ id: ScheduleID, requester: UserID) async throws {
        let store = try scheduleStore()
        for _ in 0..<8 {
            let schedule = try await self.schedule(id, requester: requester)
            do {
                guard try await store.delete(id, version: schedule.version) else { throw Self.scheduleNotFound(id) }
                return
            } catch let error as ExportError where error.code == .versionConflict {
                continue  // a scheduler moved it on meanwhile: check the owner again and retry
            }
        }
        throw ExportError(.versionConflict, "schedule \(id) kept changing; try again")
    }
}
