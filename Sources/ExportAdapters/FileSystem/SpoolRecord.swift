import ExportCore
import Foundation

/// The content of one spool file of ``FileQueue``: JSON with dates as RFC 3339 UTC strings (files
/// written before RFC 3339 hold seconds since 2001 and still read).
struct SpoolRecord: Codable, Hashable, Sendable {
    /// The message id (also in the file name).
    var id: String
    /// The job the message is about.
    var jobID: JobID
    /// How many times it has been received.
    var receiveCount: Int
    /// When it was (re-)enqueued.
    var enqueuedAt: Date
    /// For a leased message: when the lease runs out.
    var leaseExpiresAt: Date?
    /// For a dead letter: why.
    var reason: String?
    /// For a dead letter: when.
    var deadLetteredAt: Date?

    /// Decodes a spool file; `nil` when it is corrupt.
    init?(decoding bytes: [UInt8]) {
        guard let record = try? RFC3339.recordDecoder().decode(SpoolRecord.self, from: Data(bytes)),
            FileQueue.isSafeName(record.id), record.receiveCount >= 0
        else { return nil }
        self = record
    }

    init(
        id: String, jobID: JobID, receiveCount: Int, enqueuedAt: Date, leaseExpiresAt: Date?, reason: String?,
        deadLetteredAt: Date?
    ) {
        self.id = id
        self.jobID = jobID
        self.receiveCount = receiveCount
        self.enqueuedAt = enqueuedAt
        self.leaseExpiresAt = leaseExpiresAt
        self.reason = reason
        self.deadLetteredAt = deadLetteredAt
    }

    /// The file content.
    func encoded() throws(ExportError) -> [UInt8] {
        do {
            return Array(try RFC3339.recordEncoder().encode(self))
        } catch {
            throw ExportError(.encoding, "a queue message cannot be encoded: \(error)", cause: error)
        }
    }
}
