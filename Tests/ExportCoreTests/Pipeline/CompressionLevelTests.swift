import ExportAdapters
import ExportCore
import Foundation
import Testing

/// The worker's `compressionLevel` reaches the gzip encoder of `.csv.gz` exports.
@Suite("Worker gzip level")
struct CompressionLevelTests {
    /// Runs one `.csv.gz` export of `rows` generated memberships through a worker at `level`.
    static func export(level: Int, rows: Int) async throws -> [UInt8] {
        let memberships = (0..<rows).map { index in
            Membership(
                membershipID: "m\(index)", userID: "u1", organizationID: "o\(index % 7)", organizationName: "Org \(index % 7)",
                plan: "pro", role: "member", status: "active", startedAt: Harness.t0)
        }
        let harness = Harness(memberships: memberships)
        let ticket = try await harness.request(format: "csv.gz")
        let worker = try ExportWorker(
            ports: harness.ports(), source: harness.source,
            configuration: .init(receiveWaitTime: .zero, pageSize: 500, compressionLevel: level))
        try await worker.processAvailable()
        let result = try #require(try await harness.job(ticket.jobID).result)
        return try #require(await harness.blobs.contents(of: result.blobKey))
    }

    @Test("level 0 stores, level 9 compresses, both inflate to the same CSV; an out-of-range level is refused at construction")
    func levels() async throws {
        let stored = try await Self.export(level: 0, rows: 2000)
        let smallest = try await Self.export(level: 9, rows: 2000)
        let csv = try DeflateStreamTests.gunzip(stored)
        #expect(csv.count > 100_000)
        #expect(try DeflateStreamTests.gunzip(smallest) == csv)
        #expect(stored.count > csv.count, "level 0 should store the CSV uncompressed")
        #expect(smallest.count * 10 < csv.count, "level 9 should compress this repetitive CSV more than tenfold")
        for level in [-1, 10, 42] {
            let error = await #expect(throws: ExportError.self) { try await Self.export(level: level, rows: 1) }
            #expect(error?.code == .configuration)
        }
    }
}
