import Foundation
import Synchronization

/// What a running attempt shares with its heartbeat: the latest stored job and the rows written.
final class AttemptState: Sendable {
    private struct Values {
        var job: ExportJob
        var rows: Int64 = 0
    }

    private let values: Mutex<Values>

    init(_ job: ExportJob) { values = Mutex(Values(job: job)) }

    /// The job as last stored by this attempt. The heartbeat and the checkpoints store it from two
    /// tasks, so the newest version wins whichever returns last.
    var job: ExportJob {
        get { values.withLock { $0.job } }
        set { values.withLock { if newValue.version >= $0.job.version { $0.job = newValue } } }
    }

    /// Rows written so far.
    var rows: Int64 {
        get { values.withLock { $0.rows } }
        set { values.withLock { $0.rows = newValue } }
    }
}

extension ExportAttempt {
    /// Runs the export with a heartbeat beside it on the worker's clock.
    ///
    /// Every ``ExportWorker/Configuration/resolvedHeartbeatInterval`` the heartbeat renews the queue lease and the job lease
    /// and records progress, however long a single page fetch or append takes. When it finds a cancel
    /// request (``ExportError/Code/cancelled``) or that the job was taken over
    /// (``ExportError/Code/leaseLost``), it throws, which cancels the export; the partial file is aborted,
    /// or suspended for the next attempt once a checkpoint covers part of it. Each checkpoint is
    /// recorded in the job (``ExportJob/checkpoint``) as soon as it is made; an attempt on a job that has
    /// one continues from it.
    ///
    /// The export runs in a child task and the heartbeat in this one, sleeping on the worker's
    /// ``WorkerContext/heartbeatTimer`` until the next beat is due or the export ends: an export that
    /// ends before its first beat costs one task and no timer of its own.
    func export(_ job: ExportJob, into key: BlobKey, state: AttemptState) async throws -> ExportRunner.Output {
        let ended = Wakeup()
        return try await withThrowingTaskGroup(of: ExportRunner.Output.self) { group in
            group.addTask {
                defer { ended.raise() }
                return try await context.runner.run(
                    job, into: key, resumingFrom: job.checkpoint, checkpointRows: configuration.checkpointRows
                ) { progress in
                    try Task.checkCancellation()
                    state.rows = progress.rows
                    if let checkpoint = progress.checkpoint {
                        // Recorded under the lease before the export goes on: a crash from here on
                        // continues after these rows.
                        state.job = try await context.commit(state.job, attempt: job.attempt) { job throws(ExportError) in
                            job.checkpoint = checkpoint
                            job.rowsWritten = checkpoint.rows
                            try job.lifecycle.recordProgress()
                        }
                    }
                }
            }
            // A beat that throws leaves the group, which cancels the export and waits for it.
            try await heartbeats(state, until: ended)
            guard let output = try await group.next() else { throw CancellationError() }  // the export's result or error
            return output
        }
    }

    /// Beats until `ended` is raised, or throws. A passing failure of one beat (a throttled table, a
    /// lock held a while) is tolerated while the job's lease still outlasts the next beat: a multi-hour
    /// export makes hundreds of beats and must not lose its attempt to one of them. A lost lease, a
    /// cancel request, a lasting failure, or a lease about to run out stops the export.
    private func heartbeats(_ state: AttemptState, until ended: Wakeup) async throws {
        let interval = configuration.resolvedHeartbeatInterval
        while try await !context.heartbeatTimer.sleep(for: interval, unless: ended) {
            let rows = state.rows
            do {
                state.job = try await heartbeat(state.job, rows: rows, now: context.now())
                observer.observe(.progress(state.job.id, rows: rows))
            } catch let error as ExportError where error.isRetryable && error.code != .leaseLost && error.code != .cancelled {
                observer.observe(.fault(.heartbeatMissed, error, jobID: state.job.id))
                guard let leaseEnd = state.job.lifecycle.leaseExpiresAt, context.now().adding(interval) < leaseEnd else { throw error }
            }
        }
    }

    /// Renews the queue lease and the job lease, records progress, and notices a cancel request.
    private func heartbeat(_ job: ExportJob, rows: Int64, now: Date) async throws -> ExportJob {
        let leaseEnd = try await context.queue.extendLease(receipt, by: configuration.visibilityTimeout)
        let stored = try await context.commit(job, attempt: job.attempt) { job throws(ExportError) in
            try job.lifecycle.extendLease(until: leaseEnd)
            job.rowsWritten = rows
            job.stamp(now: now, retention: nil)
        }
        if stored.lifecycle.cancelRequested { throw ExportError(.cancelled, "the export was cancelled") }
        return stored
    }
}
