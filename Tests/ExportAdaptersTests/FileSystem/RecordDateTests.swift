import ExportAdapters
@testable import ExportAWS
@testable import ExportFileSystem
@testable import ExportInMemory
import ExportCore
import Foundation
import Testing

/// Dates in stored records are RFC 3339 UTC strings (issue 10, item 7), and records written before
/// (Foundation's default: seconds since 2001) still read. The fixtures in `HTTP/Fixtures/v1` were
/// written by the code before the change (commit 088e2da says how).
@Suite("Record dates")
struct RecordDateTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("HTTP/Fixtures/v1")
    static let created = Date(timeIntervalSince1970: 1_767_225_600.123456)

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    /// Checks the job the fixtures hold, down to the last bit of every date.
    static func expectFixtureJob(_ job: ExportJob?) throws {
        let job = try #require(job)
        #expect(job.id == JobID("job-v1-fixture"))
        #expect(job.createdAt == created)
        #expect(job.updatedAt == created.addingTimeInterval(2.000001))
        #expect(job.expiresAt == created.addingTimeInterval(7 * 86_400))
        #expect(job.result?.linkExpiresAt == created.addingTimeInterval(86_400.25))
        #expect(job.state == .succeeded)
        #expect(job.version == 1)
    }

    /// Every date-valued key of a JSON object, as the JSON value found.
    static func dateValues(_ json: [UInt8]) throws -> [String: Any] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        var found: [String: Any] = [:]
        func walk(_ value: Any, _ path: String) {
            if let dictionary = value as? [String: Any] {
                for (key, inner) in dictionary { walk(inner, path.isEmpty ? key : path + "." + key) }
            } else if path.hasSuffix("At") {
                found[path] = value
            }
        }
        walk(object, "")
        return found
    }

    @Test("FileJobStore reads a job record written before RFC 3339, and rewrites it with RFC 3339 strings")
    func fileJobStoreLegacy() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.url)
        try Data(try Self.fixture("filejobstore-job.json")).write(to: URL(fileURLWithPath: store.recordPath(JobID("job-v1-fixture")!)))
        let legacy = try await store.get(JobID("job-v1-fixture")!)
        try Self.expectFixtureJob(legacy)

        var changed = try #require(legacy)
        changed.rowsWritten = 4
        let updated = try await store.update(changed)
        let bytes = try #require(try POSIXFile.readAll(store.recordPath(updated.id)))
        let dates = try Self.dateValues(bytes)
        #expect(dates["createdAt"] as? String == "2026-01-01T00:00:00.123456001Z")  // the Double's nearest nanosecond
        #expect(dates.count == 4)
        for (key, value) in dates {
            let text = try #require(value as? String, "\(key) is \(value)")
            #expect(text.hasSuffix("Z") && text.utf8.count == 30, "\(key): \(text)")
        }
        // And it reads back to the very same job.
        #expect(try await store.get(updated.id) == updated)
    }

    @Test("the DynamoDB job attribute: a legacy one reads; a new one holds RFC 3339 strings and round-trips")
    func dynamoDBLegacy() throws {
        let legacy = String(decoding: try Self.fixture("dynamodb-job-attribute.json"), as: UTF8.self)
        let item: JSONValue = ["pk": .s("job#job-v1-fixture"), "job": .s(legacy), "version": .n("1")]
        let job = try DynamoDBJobStore.decodeJob(item)
        try Self.expectFixtureJob(job)

        let store = DynamoDBJobStore(
            tableName: "t", aws: AWSConfiguration(credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "SK"), region: "eu-west-1"))
        let written = try store.jobItem(job, writeToken: "token")
        let json = try #require(written["job"]?["S"]?.stringValue)
        #expect(try Self.dateValues(Array(json.utf8))["updatedAt"] as? String == "2026-01-01T00:00:02.123456955Z")
        #expect(try DynamoDBJobStore.decodeJob(written) == job)
    }

    @Test("FileQueue reads spool messages and dead letters written before RFC 3339")
    func fileQueueLegacy() async throws {
        let leased = try #require(SpoolRecord(decoding: try Self.fixture("filequeue-leased.msg")))
        #expect(leased.enqueuedAt == Self.created)
        #expect(leased.leaseExpiresAt == Self.created.addingTimeInterval(30.5))
        #expect(leased.receiveCount == 2)

        let directory = try TestDirectory("queue")
        defer { directory.remove() }
        let queue = try FileQueue(directory: directory.url, clock: ManualClock())
        let deadAt = Self.created.addingTimeInterval(600.75)
        let name = POSIXFile.sortableMilliseconds(deadAt) + "_dead01.msg"
        try Data(try Self.fixture("filequeue-dead.msg")).write(to: URL(fileURLWithPath: queue.deadDirectory + "/" + name))
        let letters = try await queue.deadLetters(limit: 10)
        #expect(letters.count == 1)
        #expect(letters.first?.deadLetteredAt == deadAt)
        #expect(letters.first?.reason == "failed for good")
        #expect(letters.first?.message.jobID == JobID("job-v1-fixture"))
    }

    @Test("new spool records hold RFC 3339 strings and read back to the same record")
    func spoolRecordRoundTrip() throws {
        let record = SpoolRecord(
            id: "abc1", jobID: JobID("j1")!, receiveCount: 1, enqueuedAt: Self.created, leaseExpiresAt: Self.created.addingTimeInterval(30),
            reason: "why", deadLetteredAt: Self.created.addingTimeInterval(0.000001))
        let bytes = try record.encoded()
        let dates = try Self.dateValues(bytes)
        #expect(dates["enqueuedAt"] as? String == "2026-01-01T00:00:00.123456001Z")
        #expect(dates.values.allSatisfy { $0 is String })
        #expect(SpoolRecord(decoding: bytes) == record)
    }

    @Test("a record date that is not RFC 3339 is corrupt, not misread", arguments: [
        "\"2026-02-31T00:00:00Z\"", "\"2026-01-01T00:00:00Zjunk\"", "\"2026-01-01T00:00:00.1234567890Z\"", "\"2026-01-01\"", "true",
    ])
    func badRecordDate(_ value: String) {
        let json = #"{"id":"abc1","jobID":"j1","receiveCount":1,"enqueuedAt":\#(value)}"#
        #expect(SpoolRecord(decoding: Array(json.utf8)) == nil)
    }

    @Test("a date past the year 9999 (a clamped huge lease) is stored as a number and reads back")
    func farFuture() throws {
        let far = Date(timeIntervalSinceReferenceDate: 9.2e18)
        let record = SpoolRecord(
            id: "abc1", jobID: JobID("j1")!, receiveCount: 1, enqueuedAt: Self.created, leaseExpiresAt: far, reason: nil,
            deadLetteredAt: nil)
        let bytes = try record.encoded()
        #expect(try Self.dateValues(bytes)["leaseExpiresAt"] is NSNumber)
        #expect(SpoolRecord(decoding: bytes) == record)
    }
}
