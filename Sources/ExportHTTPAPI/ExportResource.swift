import ExportCore
import Foundation

/// The JSON form of an export job (`#/components/schemas/Export` in `Docs/openapi.yaml`).
struct ExportResource: Encodable, Sendable {
    struct Progress: Encodable, Sendable {
        var rowsWritten: Int64
        var totalRows: Int64?
        var percent: Double?
        var rowsPerSecond: Double?
        var estimatedCompletionAt: Date?

        init(_ progress: ExportProgress) {
            rowsWritten = progress.rowsWritten
            totalRows = progress.totalRows
            percent = progress.percent.map { ($0 * 10).rounded() / 10 }
            rowsPerSecond = progress.rowsPerSecond.map { ($0 * 10).rounded() / 10 }
            estimatedCompletionAt = progress.estimatedCompletionAt
        }
    }

    struct Result: Encodable, Sendable {
        var rows: Int64
        var bytes: Int64
        var sha256: String
        var format: String
        var expiresAt: Date
        var downloadUrl: String
    }

    struct Failure: Encodable, Sendable {
        var code: String
        var reason: String

        /// The failure as a user may see it: `ExportFailure.userFacingCode` and
        /// `ExportFailure.userFacingReason`, never the stored message.
        init(userSafe failure: ExportFailure) {
            code = failure.userFacingCode
            reason = failure.userFacingReason
        }
    }

    /// The terminal e-mail: `none` (not ended, or cancelled), `pending` (with the last try's code) or `sent`.
    struct Notification: Encodable, Sendable {
        var state: String
        var code: String?

        init(_ job: ExportJob) {
            if job.notificationPending {
                state = "pending"
                code = job.notificationFailure?.userFacingCode
            } else {
                state = job.lifecycle.notified ? "sent" : "none"
                code = nil
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(state, forKey: .state)
            try container.encode(code, forKey: .code)  // explicit null
        }

        enum CodingKeys: String, CodingKey { case state, code }
    }

    struct Links: Encodable, Sendable {
        var `self`: String
        var download: String?
        var schedule: String?
    }

    /// The time range an export covers.
    struct Range: Encodable, Sendable {
        var from: Date?
        var to: Date?
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(from, forKey: .from)
            try container.encode(to, forKey: .to)
        }
        enum CodingKeys: String, CodingKey { case from, to }
    }

    /// The schedule a scheduled run belongs to.
    struct Schedule: Encodable, Sendable {
        var id: String
        var name: String
        var slot: Date
    }

    var id: String
    var state: String
    var format: String
    var columns: [String]?
    var attempt: Int
    var cancelRequested: Bool
    var progress: Progress
    var createdAt: Date
    var updatedAt: Date
    var expiresAt: Date?
    var expired: Bool
    var nextAttemptAt: Date?
    var result: Result?
    var failure: Failure?
    var notification: Notification
    var schedule: Schedule?
    var range: Range?
    var links: Links

    init(_ job: ExportJob, basePath: String, now: Date) {
        let location = "\(basePath)/exports/\(job.id.rawValue)"
        // An expired export (a tombstone the Reconciler keeps so the owner hears 410) has no file to link.
        let download = job.state == .succeeded && job.result != nil && job.expiredAt == nil ? location + "/download" : nil
        id = job.id.rawValue
        state = job.state.rawValue
        format = job.options.format.identifier
        columns = job.options.columns?.map(\.name)
        attempt = job.attempt
        cancelRequested = job.lifecycle.cancelRequested
        progress = Progress(ExportProgress(of: job, now: now))
        createdAt = job.createdAt
        updatedAt = job.updatedAt
        // A tombstone's `expiresAt` is when its record goes; the user cares when the file went.
        expiresAt = job.expiredAt ?? job.expiresAt
        expired = job.expiredAt != nil
        nextAttemptAt = job.state == .retryScheduled ? job.lifecycle.nextAttemptAt : nil
        result = job.result.map { result in
            Result(
                rows: result.rows, bytes: result.bytes, sha256: result.sha256, format: result.format.identifier,
                expiresAt: job.expiredAt ?? job.expiresAt ?? result.linkExpiresAt, downloadUrl: download ?? location + "/download")
        }
        failure = job.failure.map(Failure.init(userSafe:))
        notification = Notification(job)
        range = job.options.range.map { Range(from: $0.from, to: $0.to) }
        schedule = job.scheduledRun.map { Schedule(id: $0.scheduleID.rawValue, name: $0.scheduleName, slot: $0.slot) }
        links = Links(self: location, download: download, schedule: job.scheduledRun.map { "\(basePath)/schedules/\($0.scheduleID.rawValue)" })
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(state, forKey: .state)
        try container.encode(format, forKey: .format)
        try container.encode(columns, forKey: .columns)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(cancelRequested, forKey: .cancelRequested)
        try container.encode(progress, forKey: .progress)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(expiresAt, forKey: .expiresAt)  // explicit null: the field is always present
        try container.encode(expired, forKey: .expired)
        try container.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try container.encode(result, forKey: .result)
        try container.encode(failure, forKey: .failure)
        try container.encode(notification, forKey: .notification)
        try container.encode(schedule, forKey: .schedule)
        try container.encodeIfPresent(range, forKey: .range)
        try container.encode(links, forKey: .links)
    }

    enum CodingKeys: String, CodingKey {
        case id, state, format, columns, attempt, cancelRequested, progress, createdAt, updatedAt, expiresAt, expired,
            nextAttemptAt, result, failure, notification, schedule, range, links
    }
}

/// One page of a listing: `GET /exports` (`#/components/schemas/ExportList`) and `GET /schedules`
/// (`#/components/schemas/ScheduleList`); `nextCursor` is always present (`null` on the last page).
struct ListResource<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    var nextCursor: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }

    enum CodingKeys: String, CodingKey { case items, nextCursor }
}
