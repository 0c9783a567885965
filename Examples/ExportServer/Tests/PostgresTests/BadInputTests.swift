import ExportCore
import ExportPostgres
import Foundation
import PostgresNIOPort
import Testing

/// Bad input and bad rows end in a typed `ExportError`, never a crash or an injected statement.
@Suite("Postgres bad input")
struct BadInputTests {
    @Test("names, receipts, cursors and corrupt rows are refused with a code")
    func refused() async throws {
        guard let server = try await TestPostgres.server() else { return }
        try await server.withDatabase { database, _ in
            let schema = try PostgresSchema()
            try await schema.migrate(database)

            for mapping in [
                SQLMembershipSource.Mapping(table: "memberships; DROP TABLE export_jobs"),
                SQLMembershipSource.Mapping(userID: "user_id\" OR 1=1 --"),
                SQLMembershipSource.Mapping(keyType: "text); DELETE FROM export_jobs; --"),
            ] {
                #expect(throws: ExportError.self) { try SQLMembershipSource(executor: database, mapping: mapping) }
            }

            let queue = PostgresQueue(executor: database, schema: schema, name: "bad-input")
            for receipt in ["", "no-dot", "1.", "x.y", "9999999.deadbeef"] {
                let error = await #expect(throws: ExportError.self) { try await queue.acknowledge(LeaseReceipt(receipt)) }
                #expect(error?.code == .leaseLost)
            }
            let redrive = await #expect(throws: ExportError.self) { try await queue.redrive([MessageID("1; DROP TABLE x")]) }
            #expect(redrive?.code == .invalidRequest)

            let jobs = PostgresJobStore(executor: database, schema: schema)
            let listing = await #expect(throws: ExportError.self) {
                try await jobs.list(owner: "alice", after: PageCursor("not a cursor"), limit: 10)
            }
            #expect(listing?.code == .invalidRequest)

            // A row whose document is not a job: `get` says corruptData, the listing skips it.
            let job = ExportJob(
                id: try #require(JobID("corrupt-1")), owner: "alice", recipient: try EmailAddress(validating: "alice@example.com"),
                options: ExportOptions(), createdAt: Date(timeIntervalSince1970: 1_800_000_000))
            _ = try await jobs.create(job)
            _ = try await database.execute(.init("UPDATE export_jobs SET document = '{\"id\": 7}'::jsonb WHERE id = 'corrupt-1'"))
            let corrupt = await #expect(throws: ExportError.self) { try await jobs.get(job.id) }
            #expect(corrupt?.code == .corruptData)
            #expect(try await jobs.list(owner: "alice", after: nil, limit: 10).items.isEmpty)

            // The tables are all still there.
            let tables = try await database.execute(.init("SELECT tablename::text FROM pg_tables WHERE tablename LIKE 'export_%' ORDER BY 1"))
            #expect(tables.map { $0[0] ?? "" } == [
                "export_dead_letters", "export_jobs", "export_notifications", "export_queue",
                "export_schedules", "export_schema_migrations", "export_worker_control",
            ])
        }
    }
}
