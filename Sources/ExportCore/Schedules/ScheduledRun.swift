import Foundation

/// What links a job to the schedule that made it: shown in its status and named in its e-mail.
public struct ScheduledRun: Hashable, Sendable, Codable {
    /// The schedule.
    public var scheduleID: ScheduleID
    /// The schedule's name when the run was made.
    public var scheduleName: String
    /// The occurrence this run is for.
    public var slot: Date

    /// Creates a link.
    ///
    /// - Parameters:
    ///   - scheduleID: The schedule.
    ///   - scheduleName: Its name.
    ///   - slot: The occurrence.
    public init(scheduleID: ScheduleID, scheduleName: String, slot: Date) {
        self.scheduleID = scheduleID
        self.scheduleName = scheduleName
        self.slot = slot
    }
}
