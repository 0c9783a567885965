import Foundation

/// A user's request for a schedule, as the host received it: raw values the service validates.
///
/// The owner is the authenticated principal, never a value read from the request.
public struct ScheduleRequest: Hashable, Sendable {
    /// The authenticated user.
    public var owner: UserID
    /// A name for people, shown in each run's status and e-mail.
    public var name: String
    /// Where each run's e-mail goes.
    public var recipient: EmailAddress
    /// The format identifier; `nil` for CSV.
    public var format: String?
    /// The column names; `nil` for the defaults.
    public var columns: [String]?
    /// When it fires.
    public var recurrence: ExportRecurrence
    /// The IANA time zone a cron recurrence is read in; `UTC` by default.
    public var timeZone: String
    /// The start; now when `nil`.
    public var startsAt: Date?
    /// The end, if any.
    public var endsAt: Date?
    /// The most runs, if any.
    public var maxRuns: Int?
    /// What happens to missed occurrences.
    public var catchUp: CatchUpPolicy
    /// The time range each run covers, or `nil` for every membership.
    public var window: ScheduleWindow?

    /// Creates a request.
    ///
    /// - Parameters:
    ///   - owner: The authenticated user.
    ///   - name: A name for people.
    ///   - recipient: Where e-mails go.
    ///   - format: The format, or `nil` for CSV.
    ///   - columns: The columns, or `nil` for the defaults.
    ///   - recurrence: When it fires.
    ///   - timeZone: An IANA time zone; `UTC` by default.
    ///   - startsAt: The start, or `nil` for now.
    ///   - endsAt: The end, if any.
    ///   - maxRuns: The most runs, if any.
    ///   - catchUp: The catch-up policy; ``CatchUpPolicy/runLatest`` by default.
    ///   - window: The range each run covers, or `nil` for every membership.
    public init(
        owner: UserID, name: String, recipient: EmailAddress, format: String? = nil, columns: [String]? = nil,
        recurrence: ExportRecurrence, timeZone: String = "UTC", startsAt: Date? = nil, endsAt: Date? = nil, maxRuns: Int? = nil,
        catchUp: CatchUpPolicy = .runLatest, window: ScheduleWindow? = nil
    ) {
        self.owner = owner
        self.name = name
        self.recipient = recipient
        self.format = format
        self.columns = columns
        self.recurrence = recurrence
        self.timeZone = timeZone
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.maxRuns = maxRuns
        self.catchUp = catchUp
        self.window = window
    }
}

/// The changes a user makes to a schedule; `nil` fields stay as they are.
public struct ScheduleChange: Hashable, Sendable {
    /// A new name.
    public var name: String?
    /// A new recipient.
    public var recipient: EmailAddress?
    /// A new format identifier.
    public var format: String?
    /// New column names.
    public var columns: [String]?
    /// A new recurrence.
    public var recurrence: ExportRecurrence?
    /// A new time zone.
    public var timeZone: String?
    /// A new end (`.some(nil)` removes it).
    public var endsAt: Date??
    /// A new bound on runs (`.some(nil)` removes it).
    public var maxRuns: Int??
    /// A new catch-up policy.
    public var catchUp: CatchUpPolicy?
    /// A new window (`.some(nil)` removes it: every run exports every membership).
    public var window: ScheduleWindow??

    /// Creates a change that changes nothing; set the fields to change.
    public init() {}
}
