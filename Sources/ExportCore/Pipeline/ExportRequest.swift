/// A user's request for an export, as the host received it: raw values the service validates.
///
/// The owner is the authenticated principal from the host's own authentication, never a value read
/// from the request body or path.
public struct ExportRequest: Hashable, Sendable {
    /// The authenticated user asking for the export.
    public var owner: UserID
    /// Where to send the e-mails; validated by the service.
    public var recipient: EmailAddress
    /// The format identifier (`csv`, `csv.gz`, `jsonl`); `nil` for CSV.
    public var format: String?
    /// The column names in order; `nil` for the configured default columns.
    public var columns: [String]?
    /// The time range the export covers (memberships active within it), or `nil` for all.
    public var range: ExportTimeRange?

    /// Creates a request.
    ///
    /// - Parameters:
    ///   - owner: The authenticated user.
    ///   - recipient: The e-mail address for notifications.
    ///   - format: The format identifier, or `nil` for CSV.
    ///   - columns: The column names, or `nil` for the defaults.
    ///   - range: The time range, or `nil` for all memberships.
    public init(owner: UserID, recipient: EmailAddress, format: String? = nil, columns: [String]? = nil, range: ExportTimeRange? = nil) {
        self.range = range
        self.owner = owner
        self.recipient = recipient
        self.format = format
        self.columns = columns
    }
}

/// The answer to an accepted request: the job to poll.
public struct ExportTicket: Hashable, Sendable {
    /// The job as recorded.
    public var job: ExportJob
    /// Whether the owner already had an active export and this is that one.
    public var deduplicated: Bool

    /// Creates a ticket.
    ///
    /// - Parameters:
    ///   - job: The job.
    ///   - deduplicated: Whether it is the owner's existing active export.
    public init(job: ExportJob, deduplicated: Bool) {
        self.job = job
        self.deduplicated = deduplicated
    }

    /// The job's id.
    public var jobID: JobID { job.id }
    /// The job's state.
    public var state: JobState { job.state }
}

/// The answer to a cancel request.
public struct CancelOutcome: Hashable, Sendable {
    /// The job after the request.
    public var job: ExportJob
    /// Whether it is cancelled now, stopping, or already was.
    public var action: JobLifecycle.CancelAction

    /// Creates an outcome.
    ///
    /// - Parameters:
    ///   - job: The job after the request.
    ///   - action: What the request did.
    public init(job: ExportJob, action: JobLifecycle.CancelAction) {
        self.job = job
        self.action = action
    }
}
