import ExportCore
import Foundation

/// A job as an operator sees it (`#/components/schemas/AdminJob` in `Docs/admin-openapi.yaml`): the
/// lifecycle's counters, the stored failure (its real reason, which the user API never shows), the
/// notification state and, on `GET /jobs/{id}`, the job's dead letters.
struct AdminJobResource: Encodable, Sendable {
    struct Failure: Encodable, Sendable {
        var code: String
        var reason: String
    }

    struct Notification: Encodable, Sendable {
        /// `none` (not ended, or cancelled), `pending` (with the last try's failure) or `sent`.
        var state: String
        var failure: Failure?
    }

    var id: String
    var owner: String
    var state: String
    var format: String
    var createdAt: Date
    var updatedAt: Date
    var attempt: Int
    var failures: Int
    var interruptions: Int
    var deferrals: Int
    var retries: Int
    var rowsWritten: Int64
    /// The rows of the checkpoint the next attempt continues after; absent without one.
    var checkpointRows: Int64?
    var nextAttemptAt: Date?
    var leaseExpiresAt: Date?
    var cancelRequested: Bool
    var failure: Failure?
    var notification: Notification
    var expiresAt: Date?
    var expiredAt: Date?
    var scheduleId: String?
    /// Only on `GET /jobs/{id}`; absent when the queue's dead letters could not be read.
    var deadLetters: [DeadLetterResource]?

    init(_ job: ExportJob, now: Date, deadLetters: [DeadLetter]? = nil) {
        id = job.id.rawValue
        owner = job.owner.rawValue
        state = job.state.rawValue
        format = job.options.format.identifier
        createdAt = job.createdAt
        updatedAt = job.updatedAt
        attempt = job.lifecycle.attempt
        failures = job.lifecycle.failures
        interruptions = job.lifecycle.interruptions
        deferrals = job.lifecycle.deferrals
        retries = job.lifecycle.retries
        rowsWritten = job.rowsWritten
        checkpointRows = job.checkpoint?.rows
        nextAttemptAt = job.lifecycle.nextAttemptAt
        leaseExpiresAt = job.lifecycle.leaseExpiresAt
        cancelRequested = job.lifecycle.cancelRequested
        failure = job.failure.map { Failure(code: $0.code, reason: $0.reason) }
        if job.notificationPending {
            notification = Notification(state: "pending", failure: job.notificationFailure.map { Failure(code: $0.code, reason: $0.reason) })
        } else {
            notification = Notification(state: job.lifecycle.notified ? "sent" : "none", failure: nil)
        }
        expiresAt = job.expiresAt
        expiredAt = job.expiredAt
        scheduleId = job.scheduledRun?.scheduleID.rawValue
        self.deadLetters = deadLetters?.map(DeadLetterResource.init)
    }
}

/// One page of `GET /jobs`.
struct AdminJobList: Encodable, Sendable {
    var items: [AdminJobResource]
    var nextCursor: String?
}

/// A dead letter (`#/components/schemas/DeadLetter`).
struct DeadLetterResource: Encodable, Sendable {
    var id: String
    var jobId: String
    var reason: String
    var receiveCount: Int
    var deadLetteredAt: Date

    init(_ letter: DeadLetter) {
        id = letter.id.rawValue
        jobId = letter.message.jobID.rawValue
        reason = letter.reason
        receiveCount = letter.receiveCount
        deadLetteredAt = letter.deadLetteredAt
    }
}

/// `GET /dead-letters`.
struct DeadLetterList: Encodable, Sendable {
    var items: [DeadLetterResource]
}

/// The workers' pause switch (`#/components/schemas/WorkerControl`).
struct WorkerControlResource: Encodable, Sendable {
    var paused: Bool
    var changedAt: Date?
    var changedBy: String?
    var reason: String?

    init(_ control: WorkerControl) {
        paused = control.paused
        changedAt = control.changedAt
        changedBy = control.changedBy?.rawValue
        reason = control.reason
    }
}
