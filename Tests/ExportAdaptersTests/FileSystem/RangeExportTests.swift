import ExportAdapters
import ExportCore
import Foundation
import Testing

/// A time range from the request to the file and the e-mail, on the file-system backend: the source
/// filters (memberships active within `[from, to)`), the file name and the e-mail say which range, and
/// a source that cannot filter fails the export with a typed, permanent error.
@Suite("Time-range exports end to end")
struct RangeExportTests {
    static let csv = """
        membership_id,user_id,organization_id,organization_name,plan,role,status,started_at,ended_at,renews_at,amount,currency
        m-1,ada,o,Org,pro,admin,active,2025-06-01T00:00:00Z,2025-12-31T00:00:00Z,,,
        m-2,ada,o,Org,pro,admin,active,2025-12-15T00:00:00Z,2026-01-10T00:00:00Z,,,
        m-3,ada,o,Org,pro,admin,active,2026-01-20T00:00:00Z,,,,
        m-4,ada,o,Org,pro,admin,active,2026-02-01T00:00:00Z,,,,
        m-5,ada,o,Org,pro,admin,active,2024-01-01T00:00:00Z,2026-01-01T00:00:00Z,,,
        m-6,bob,o,Org,pro,admin,active,2026-01-05T00:00:00Z,,,,

        """

    /// The decoded text part of an `.eml`.
    static func text(ofEmail eml: String) -> String {
        let sections = eml.components(separatedBy: "\r\n\r\n")
        guard let index = sections.firstIndex(where: { $0.contains("text/plain") && $0.contains("base64") }), index + 1 < sections.count else {
            return ""
        }
        let body = sections[index + 1].components(separatedBy: "\r\n").prefix { !$0.hasPrefix("--") }.joined()
        return Data(base64Encoded: body).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    struct Setup {
        let directory: TestDirectory
        let clock = ManualClock(now: FSFixtures.start)
        let backend: FileSystemBackend
        let service: ExportService
        init() throws {
            directory = try TestDirectory("range")
            try directory.write(RangeExportTests.csv, to: "members.csv")
            backend = try FileSystemBackend(
                directory: directory.sub("data"), linkSecret: Array(repeating: 9, count: 32), linkBaseURL: FSFixtures.linkBase,
                from: EmailAddress("exports@example.com")!, clock: clock)
            service = try ExportService(ports: backend.ports, configuration: .init(rateLimit: nil))
        }
        func work(_ source: any MembershipSource) async throws {
            let worker = try ExportWorker(ports: backend.ports, source: source, configuration: .init(receiveWaitTime: .zero, pageSize: 1))
            while try await worker.processAvailable() > 0 {}
        }
    }

    @Test("only memberships active within [from, to) are exported; the file name and e-mail name the range")
    func filtered() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let source = try FileMembershipSource(fileURL: setup.directory.url.appendingPathComponent("members.csv"))
        let range = try ExportTimeRange(from: try RFC3339.parse("2026-01-01T00:00:00Z"), to: try RFC3339.parse("2026-02-01T00:00:00Z"))
        let ticket = try await setup.service.request(ExportRequest(owner: "ada", recipient: FSFixtures.recipient, range: range))
        try await setup.work(source)
        let job = try await setup.service.status(of: ticket.jobID, requester: "ada")
        #expect(job.state == .succeeded, "\(job.state) \(String(describing: job.failure))")
        var bytes: [UInt8] = []
        for try await chunk in try await setup.backend.blobStore.read(try #require(job.result).blobKey) { bytes += chunk }
        let ids = String(decoding: bytes, as: UTF8.self).split(separator: "\r\n").dropFirst().map { String($0.prefix(3)) }
        // m-1 ended before the range, m-4 starts at its (exclusive) end, m-5 ended at its start; m-6 is bob's.
        #expect(ids == ["m-2", "m-3"])
        #expect(ExportService.filename(for: job) == "memberships-2026-01-01_2026-02-01.csv")
        #expect(try await source.membershipCount(of: "ada", range: range) == 2)
        let eml = try setup.directory.read("data/outbox/\(job.id).ready.eml")
        #expect(Self.text(ofEmail: eml).contains("covering 2026-01-01 to 2026-02-01"))
    }

    @Test("open ends: from only, to only")
    func openEnds() throws {
        let row = { (start: String, end: String?) in
            Membership(
                membershipID: "m", userID: "u", organizationID: "o", organizationName: "O", plan: "p", role: "r", status: "s",
                startedAt: try! RFC3339.parse(start), endedAt: end.map { try! RFC3339.parse($0) })
        }
        let since = try ExportTimeRange(from: try RFC3339.parse("2026-01-01T00:00:00Z"), to: nil)
        let until = try ExportTimeRange(from: nil, to: try RFC3339.parse("2026-01-01T00:00:00Z"))
        #expect(since.contains(row("2020-01-01T00:00:00Z", nil)) && !since.contains(row("2020-01-01T00:00:00Z", "2025-06-01T00:00:00Z")))
        #expect(until.contains(row("2025-12-31T23:59:59Z", nil)) && !until.contains(row("2026-01-01T00:00:00Z", nil)))
        #expect(since.fileLabel == "2026-01-01_" && until.description == "until 2026-01-01")
        #expect(throws: ExportError.self) { try ExportTimeRange(from: nil, to: nil) }
        #expect(throws: ExportError.self) { try ExportTimeRange(from: Date(timeIntervalSince1970: 10), to: Date(timeIntervalSince1970: 10)) }
    }

    @Test("a monthly schedule with a previousPeriod window exports the month before each run, named in the file and the e-mail")
    func scheduledWindow() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let source = try FileMembershipSource(fileURL: setup.directory.url.appendingPathComponent("members.csv"))
        let schedule = try await setup.service.createSchedule(
            ScheduleRequest(
                owner: "ada", name: "Monthly report", recipient: FSFixtures.recipient, recurrence: try .cron("0 0 1 * *"),
                window: .previousPeriod))
        let scheduler = try ExportScheduler(ports: setup.backend.ports)
        // 2026-01-01 00:00 is due now (December's run); 2026-02-01 one month later (January's).
        try await scheduler.tick()
        setup.clock.advance(by: .seconds(31 * 86400))
        try await scheduler.tick()
        try await setup.work(source)
        var files: [String: [String]] = [:]
        for slot in ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"] {
            let id = schedule.occurrenceJobID(for: try RFC3339.parse(slot))
            let job = try await setup.service.status(of: id, requester: "ada")
            #expect(job.state == .succeeded, "\(slot): \(job.state) \(String(describing: job.failure))")
            var bytes: [UInt8] = []
            for try await chunk in try await setup.backend.blobStore.read(try #require(job.result).blobKey) { bytes += chunk }
            files[ExportService.filename(for: job)] = String(decoding: bytes, as: UTF8.self).split(separator: "\r\n").dropFirst().map { String($0.prefix(3)) }
            let eml = try setup.directory.read("data/outbox/\(job.id).ready.eml")
            #expect(Self.text(ofEmail: eml).contains("Monthly report"), "\(eml)")
        }
        // December: m-1 (to 31 Dec), m-2 (from 15 Dec) and m-5 (to 1 Jan); January: m-2 (to 10 Jan) and m-3.
        #expect(files == [
            "memberships-2025-12-01_2026-01-01.csv": ["m-1", "m-2", "m-5"],
            "memberships-2026-01-01_2026-02-01.csv": ["m-2", "m-3"],
        ])
    }

    /// A source written before ranges existed: only the unfiltered read.
    struct LegacySource: MembershipSource {
        func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
            Page(items: [], next: nil)
        }
    }

    @Test("a source that cannot filter fails the export with rangeNotSupported, not a wrong file")
    func legacySource() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let range = try ExportTimeRange(from: try RFC3339.parse("2026-01-01T00:00:00Z"), to: nil)
        let ticket = try await setup.service.request(ExportRequest(owner: "ada", recipient: FSFixtures.recipient, range: range))
        try await setup.work(LegacySource())
        let job = try await setup.service.status(of: ticket.jobID, requester: "ada")
        #expect(job.state == .failed && job.attempt == 1)
        #expect(job.failure?.userFacingCode == "rangeNotSupported")
        // Without a range the same source still works.
        let plain = try await setup.service.request(ExportRequest(owner: "bob", recipient: FSFixtures.recipient))
        try await setup.work(LegacySource())
        #expect(try await setup.service.status(of: plain.jobID, requester: "bob").state == .succeeded)
    }
}
