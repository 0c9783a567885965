import Foundation

/// Tells the user that an export is ready (with the link) or failed (with the reason).
///
/// ## Implementation requirements
/// - **Idempotent by key.** Sending a notification whose ``ExportNotification/idempotencyKey`` was
///   already sent successfully does nothing and succeeds. The worker may send the same notification
///   again after a crash or a duplicate delivery, and the user must still get exactly one message.
///   Services without native idempotency (SES, plain SMTP) keep a ledger of sent keys.
/// - A failure to send throws a retryable ``ExportError`` when a later try may succeed; the worker
///   retries the notification, not the export.
public protocol Notifier: Sendable {
    /// Delivers a notification at most once per idempotency key.
    ///
    /// - Parameters:
    ///   - notification: What to say, to whom.
    /// - Throws: ``ExportError`` when it could not be delivered.
    func send(_ notification: ExportNotification) async throws
}

/// A message to the user about one export.
public struct ExportNotification: Hashable, Sendable, Codable {
    /// What the message says.
    public enum Content: Hashable, Sendable, Codable {
        /// The export is ready to download.
        case ready(ReadyDetails)
        /// The export failed. The worker sends ``ExportFailure/userFacingReason`` as `reason`, a fixed
        /// sentence fit for the user, never the internal error message.
        case failed(reason: String)
    }

    /// The details of a "ready" message.
    public struct ReadyDetails: Hashable, Sendable, Codable {
        /// The download link.
        public var link: URL
        /// When the link expires.
        public var expiresAt: Date
        /// The number of data rows.
        public var rows: Int64
        /// The file size in bytes.
        public var bytes: Int64
        /// The file's format.
        public var format: ExportFormat
        /// The schedule whose run this is, by name; `nil` for an export the user asked for.
        public var scheduleName: String?
        /// The time range the file covers, if one was asked for.
        public var range: ExportTimeRange?

        /// What the e-mail says the file is about besides its size: `Schedule "Nightly"`, `covering
        /// 2026-01-01 to 2026-02-01`, both, or nothing.
        public var scope: String? {
            let parts = [scheduleName.map { "Schedule \"\($0)\"" }, range.map { "covering \($0) (UTC, end exclusive)" }].compactMap { $0 }
            return parts.isEmpty ? nil : parts.joined(separator: ", ")
        }

        /// Creates the details.
        ///
        /// - Parameters:
        ///   - link: The download link.
        ///   - expiresAt: When the link expires.
        ///   - rows: The number of data rows.
        ///   - bytes: The file size.
        ///   - format: The file's format.
        ///   - scheduleName: The schedule's name, for a scheduled run.
        ///   - range: The time range the file covers, if any.
        public init(
            link: URL, expiresAt: Date, rows: Int64, bytes: Int64, format: ExportFormat, scheduleName: String? = nil, range: ExportTimeRange? = nil
        ) {
            self.scheduleName = scheduleName
            self.range = range
            self.link = link
            self.expiresAt = expiresAt
            self.rows = rows
            self.bytes = bytes
            self.format = format
        }
    }

    /// Identifies this message across retries: `<job id>.ready` or `<job id>.failed`.
    public var idempotencyKey: String
    /// The job the message is about.
    public var jobID: JobID
    /// The owner of the job.
    public var owner: UserID
    /// The e-mail address to write to.
    public var recipient: EmailAddress
    /// What the message says.
    public var content: Content
    /// The sender's claim on the job while it sends: the queue message it holds and until when. A
    /// notifier that reserves keys in a ledger (SES, webhooks) uses it as a fencing token, so a
    /// reservation left by a sender that died is taken over as soon as that sender's lease is provably
    /// gone, and holds no longer than the lease. `nil` when the sender holds no message (the
    /// ``Reconciler`` completing a pending notification).
    public var lease: NotificationLease?

    /// Creates a notification.
    ///
    /// - Parameters:
    ///   - jobID: The job the message is about.
    ///   - owner: The owner of the job.
    ///   - recipient: The address to write to.
    ///   - content: What to say.
    ///   - idempotencyKey: The key; by default the job id and the kind of message.
    public init(jobID: JobID, owner: UserID, recipient: EmailAddress, content: Content, idempotencyKey: String? = nil) {
        self.jobID = jobID
        self.owner = owner
        self.recipient = recipient
        self.content = content
        self.idempotencyKey = idempotencyKey ?? "\(jobID).\(content.kind.rawValue)"
    }

    /// Whether it is a "ready" or a "failed" message.
    public var kind: NotificationKind { content.kind }
}

/// The queue lease under which a worker sends a notification (see ``ExportNotification/lease``).
public struct NotificationLease: Hashable, Sendable, Codable {
    /// The queue message's id.
    public var messageID: String
    /// How many times the message had been received when this sender got it. The queue delivers a
    /// message again only once the previous lease ran out, so a sender of the same message with a
    /// smaller count has provably lost its lease.
    public var receiveCount: Int
    /// When the sender's lease runs out unless it is extended.
    public var expiresAt: Date

    /// Creates a lease description.
    ///
    /// - Parameters:
    ///   - messageID: The queue message's id.
    ///   - receiveCount: Its receive count at this delivery.
    ///   - expiresAt: When the lease runs out.
    public init(messageID: String, receiveCount: Int, expiresAt: Date) {
        self.messageID = messageID
        self.receiveCount = receiveCount
        self.expiresAt = expiresAt
    }
}

extension ExportNotification.Content {
    /// Whether it is a "ready" or a "failed" message.
    public var kind: NotificationKind {
        switch self {
        case .ready: .ready
        case .failed: .failed
        }
    }
}
