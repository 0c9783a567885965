extension ExportEvent.Name {
    /// A schedule's occurrence became a job (``ExportEvent/jobID`` is the run's job).
    public static let scheduleFired: ExportEvent.Name = "schedule.fired"
    /// Another scheduler had already made this occurrence's job; nothing was added.
    public static let scheduleAlreadyFired: ExportEvent.Name = "schedule.alreadyFired"
    /// Due occurrences were passed over by the catch-up policy (``ExportEvent/rows`` holds how many).
    public static let scheduleSkipped: ExportEvent.Name = "schedule.skipped"
    /// The source could not count an export's rows; its progress shows rows and rate only.
    public static let countFailed: ExportEvent.Name = "source.countFailed"
    /// A scheduler pass failed; it is tried again at the next tick.
    public static let schedulerFailed: ExportEvent.Name = "scheduler.failed"
}

extension ExportEvent {
    /// ``Name/scheduleFired``.
    public static func scheduleFired(_ id: JobID, owner: UserID) -> ExportEvent {
        var event = ExportEvent(.scheduleFired, jobID: id)
        event.owner = owner
        return event
    }

    /// ``Name/scheduleAlreadyFired``.
    public static func scheduleAlreadyFired(_ id: JobID, owner: UserID) -> ExportEvent {
        var event = ExportEvent(.scheduleAlreadyFired, jobID: id)
        event.owner = owner
        return event
    }

    /// ``Name/scheduleSkipped``, with the number of occurrences passed over in ``rows``.
    public static func scheduleSkipped(owner: UserID, count: Int, schedule: ScheduleID) -> ExportEvent {
        var event = ExportEvent(.scheduleSkipped)
        event.owner = owner
        event.rows = Int64(count)
        event.message = "schedule \(schedule) passed over \(count) occurrence(s)"
        return event
    }
}
