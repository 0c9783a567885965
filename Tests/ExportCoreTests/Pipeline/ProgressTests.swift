import ExportAdapters
import ExportCore
import Foundation
import Testing

/// Progress a user can read: with the source's count, total, percentage and ETA; without, rows and rate.
@Suite("Progress")
struct ProgressTests {
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)

    static func running(rows: Int64, total: Int64?, startedSecondsAgo: Double, now: Date) -> ExportJob {
        var job = ExportJob(
            id: JobID("job-1")!, owner: "ada", recipient: EmailAddress("ada@example.com")!, options: ExportOptions(), createdAt: t0)
        _ = job.lifecycle.claim(now: now, lease: .seconds(60), maxInterruptions: 3)
        job.rowsWritten = rows
        job.totalRows = total
        job.attemptStartedAt = now.addingTimeInterval(-startedSecondsAgo)
        return job
    }

    @Test("with a count: percentage, rate and estimated completion")
    func withCount() {
        let now = Self.t0.addingTimeInterval(100)
        let job = Self.running(rows: 250, total: 1000, startedSecondsAgo: 10, now: now)
        #expect(job.state == .running)
        let progress = ExportProgress(of: job, now: now)
        #expect(progress.totalRows == 1000 && progress.percent == 25)
        #expect(progress.rowsPerSecond == 25)
        #expect(progress.estimatedCompletionAt == now.addingTimeInterval(30))  // 750 rows left at 25 rows/s
    }

    @Test("without a count: rows and rate only")
    func withoutCount() {
        let now = Self.t0.addingTimeInterval(100)
        let progress = ExportProgress(of: Self.running(rows: 500, total: nil, startedSecondsAgo: 20, now: now), now: now)
        #expect(progress.totalRows == nil && progress.percent == nil && progress.estimatedCompletionAt == nil)
        #expect(progress.rowsPerSecond == 25 && progress.rowsWritten == 500)
        let fresh = ExportProgress(of: Self.running(rows: 0, total: 10, startedSecondsAgo: 0, now: now), now: now)
        #expect(fresh.percent == 0 && fresh.rowsPerSecond == nil && fresh.estimatedCompletionAt == nil)
    }

    @Test("a worker records the source's count; a finished export reads 100 %")
    func endToEnd() async throws {
        let harness = Harness()
        let ticket = try await harness.service.request(ExportRequest(owner: "u1", recipient: EmailAddress("a@example.com")!))
        _ = try await harness.worker().processAvailable()
        let job = try await harness.service.status(of: ticket.jobID, requester: "u1")
        #expect(job.state == .succeeded)
        let expected = try await harness.source.membershipCount(of: "u1", range: nil)
        #expect(job.totalRows == expected && (expected ?? 0) > 0)
        #expect(ExportProgress(of: job, now: harness.clock.now()).percent == 100)
    }
}
