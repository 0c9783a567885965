import Foundation

/// How far a job got, as a user reads it: rows written, and with the source's count the total, a
/// percentage and an estimated completion time; without a count, rows and rate only.
public struct ExportProgress: Hashable, Sendable {
    /// Rows written so far.
    public var rowsWritten: Int64
    /// Rows the export will write, if the source said.
    public var totalRows: Int64?
    /// `rowsWritten / totalRows` in percent (0–100), with a count.
    public var percent: Double?
    /// Rows per second since the attempt started, once some were written.
    public var rowsPerSecond: Double?
    /// When the running export should finish at the current rate, with a count.
    public var estimatedCompletionAt: Date?

    /// The progress of a job at `now`. A pure function of the job: no clock read.
    ///
    /// - Parameters:
    ///   - job: The job.
    ///   - now: The current time.
    public init(of job: ExportJob, now: Date) {
        rowsWritten = job.rowsWritten
        totalRows = job.totalRows
        if let total = job.totalRows {
            percent = total == 0 ? (job.state == .succeeded ? 100 : 0) : min(100, Double(job.rowsWritten) * 100 / Double(total))
        }
        guard let started = job.attemptStartedAt else { return }
        let end = job.state == .running ? now : job.updatedAt
        let elapsed = end.timeIntervalSince(started)
        guard elapsed > 0, job.rowsWritten > 0 else { return }
        let rate = Double(job.rowsWritten) / elapsed
        rowsPerSecond = rate
        if job.state == .running, let total = job.totalRows, total >= job.rowsWritten {
            estimatedCompletionAt = now.addingTimeInterval(Double(total - job.rowsWritten) / rate)
        }
    }
}
