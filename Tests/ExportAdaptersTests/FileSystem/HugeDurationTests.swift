import ExportAdapters
@testable import ExportAWS
@testable import ExportFileSystem
@testable import ExportInMemory
import ExportCore
import Foundation
import Testing

/// `Int64(Double)` traps outside its range; durations and dates from callers can be that large.
@Suite("Huge durations and dates are clamped, not trapped on")
struct HugeDurationTests {
    @Test("clampedInt64 saturates and maps NaN to zero")
    func clamping() {
        #expect(POSIXFile.clampedInt64(1e300) == .max)
        #expect(POSIXFile.clampedInt64(.infinity) == .max)
        #expect(POSIXFile.clampedInt64(9.3e18) == .max)
        #expect(POSIXFile.clampedInt64(-1e300) == .min)
        #expect(POSIXFile.clampedInt64(.nan) == 0)
        #expect(POSIXFile.clampedInt64(1234.9) == 1234)
        #expect(POSIXFile.sortableMilliseconds(Date(timeIntervalSince1970: 1e300)) == "999999999999999")
        #expect(POSIXFile.sortableMilliseconds(Date(timeIntervalSince1970: -1e300)) == "000000000000000")
    }

    @Test("a queue accepts the longest delay a Duration can hold")
    func longestDelay() async throws {
        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let queue = try FileQueue(directory: directory.url, clock: ManualClock())
        try await queue.enqueue(QueueMessage(jobID: JobID("job-1")!), delay: .seconds(Int64.max))
        #expect(try await queue.receive(max: 1, visibilityTimeout: .seconds(Int64.max), waitTime: .zero).isEmpty)
        try await queue.enqueue(QueueMessage(jobID: JobID("job-2")!))
        let delivery = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(Int64.max), waitTime: .zero).first)
        try await queue.release(delivery.receipt, delay: .seconds(Int64.max))
        #expect(directory.list("ready").count == 2)
    }

    @Test("a link expiring in the far future is signed, not trapped on")
    func farFutureLink() {
        let signer = DownloadLinkSigner(secret: Array(repeating: 1, count: 32), baseURL: URL(string: "https://example.com/d")!)
        let link = signer.link(for: BlobKey("a.csv")!, filename: "a.csv", expiresAt: Date(timeIntervalSince1970: 1e300))
        #expect(link.url.absoluteString.contains("expires=\(Int64.max)"))
    }
}
