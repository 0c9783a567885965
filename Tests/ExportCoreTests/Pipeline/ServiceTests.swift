import ExportAdapters
import ExportCore
import ExportTestSupport
import Foundation
import Testing

@Suite("ExportService")
struct ServiceTests {
    @Test("guarantee 1: a request returns once the job is recorded and queued, without touching the export")
    func requestDoesNotWait() async throws {
        let harness = Harness()
        let ticket = try await harness.request()
        #expect(ticket.state == .queued)
        #expect(!ticket.deduplicated)
        #expect(try await harness.job(ticket.jobID).state == .queued)
        #expect(await harness.queue.pendingMessages == [QueueMessage(jobID: ticket.jobID)])
        #expect(harness.source.faults.callCount(.page) == 0)
        #expect(await harness.notifier.sent.isEmpty)
        #expect(harness.events.names == ["export.accepted"])
    }

    @Test("an owner with an active export gets that export back, and nothing is queued twice")
    func deduplication() async throws {
        let harness = Harness()
        let first = try await harness.request()
        let second = try await harness.request(format: "csv")
        #expect(second.jobID == first.jobID)
        #expect(second.deduplicated)
        #expect(await harness.queue.pendingMessages.count == 1)
        let other = try await harness.request("u2")
        #expect(other.jobID != first.jobID)
        // Once the first is finished, a new request starts a new export.
        _ = try await harness.service.cancel(first.jobID, requester: "u1")
        let third = try await harness.request()
        #expect(third.jobID != first.jobID)
        #expect(!third.deduplicated)
    }

    @Test("the rate limit counts an owner's exports in a sliding window and says when to retry")
    func rateLimit() async throws {
        let harness = Harness(rateLimit: .init(maxRequests: 2, per: .seconds(3600)))
        for _ in 0..<2 {
            let ticket = try await harness.request()
            _ = try await harness.service.cancel(ticket.jobID, requester: "u1")
            harness.clock.advance(by: .seconds(60))
        }
        let error = await #expect(throws: ExportError.self) { try await harness.request() }
        #expect(error?.code == .rateLimited)
        #expect(error?.isRetryable == true)
        #expect(error?.retryAt == Harness.t0.addingTimeInterval(3600))
        #expect(try await harness.request("u2").state == .queued)  // other owners are not affected
        harness.clock.advance(by: .seconds(3600 - 120))
        #expect(try await harness.request().state == .queued)
    }

    @Test("the rate limit pages through a job store that returns short pages")
    func rateLimitPages() async throws {
        let harness = Harness()
        let service = try ExportService(
            ports: harness.ports(jobStore: OneJobPerPageStore(harness.jobs)),
            configuration: .init(rateLimit: .init(maxRequests: 2, per: .seconds(3600))))
        for _ in 0..<2 {
            let ticket = try await service.request(ExportRequest(owner: "u1", recipient: EmailAddress("u1@example.com")!))
            _ = try await service.cancel(ticket.jobID, requester: "u1")
            harness.clock.advance(by: .seconds(60))
        }
        let error = await #expect(throws: ExportError.self) {
            try await service.request(ExportRequest(owner: "u1", recipient: EmailAddress("u1@example.com")!))
        }
        #expect(error?.code == .rateLimited)
        #expect(error?.retryAt == Harness.t0.addingTimeInterval(3600))
    }

    static let ada = EmailAddress("a@example.com")!

    @Test("A recipient that is not an address is refused with a typed error before any request exists",
        arguments: ["not-an-address", "a@example.com\r\nBcc: b@example.com", ""])
    func badRecipient(_ text: String) {
        #expect(EmailAddress(text) == nil)
        let error = #expect(throws: ExportError.self) { try EmailAddress(validating: text) }
        #expect(error?.code == .invalidRecipient)
    }

    @Test("bad input gets a typed error and records nothing", arguments: [
        (ExportRequest(owner: "u1", recipient: Self.ada, format: "xlsx"), ExportError.Code.unsupportedFormat),
        (ExportRequest(owner: "u1", recipient: Self.ada, columns: ["plan", "password_hash"]), .unknownColumn),
        (ExportRequest(owner: "u1", recipient: Self.ada, columns: ["plan", "plan"]), .unknownColumn),
        (ExportRequest(owner: "u1", recipient: Self.ada, columns: []), .unknownColumn),
    ])
    func badInput(request: ExportRequest, code: ExportError.Code) async throws {
        let harness = Harness()
        let error = await #expect(throws: ExportError.self) { try await harness.service.request(request) }
        #expect(error?.code == code)
        #expect(await harness.jobs.count == 0)
        #expect(await harness.queue.pendingMessages.isEmpty)
    }

    @Test("chosen columns and configured attribute columns are kept in the requested order")
    func columns() async throws {
        let harness = Harness()
        let ticket = try await harness.request(columns: ["seats", "organization_name", "membership_id"])
        #expect(ticket.job.options.columns == [.attribute("seats"), .organizationName, .membershipID])
    }

    @Test("another user's job is invisible: status, cancel and download say not found; list is scoped")
    func isolation() async throws {
        let harness = Harness()
        let mine = try await harness.request("u1")
        for call in [
            { try await harness.service.status(of: mine.jobID, requester: "u2") as Any },
            { try await harness.service.cancel(mine.jobID, requester: "u2") as Any },
            { try await harness.service.downloadLink(for: mine.jobID, requester: "u2") as Any },
        ] {
            let error = await #expect(throws: ExportError.self) { _ = try await call() }
            #expect(error?.code == .notFound)
        }
        #expect(try await harness.service.list(requester: "u2").items.isEmpty)
        #expect(try await harness.service.list(requester: "u1").items.map(\.id) == [mine.jobID])
        #expect(try await harness.job(mine.jobID).state == .queued)  // the foreign cancel changed nothing
        let unknown = try #require(JobID("no-such-job"))
        await #expect(throws: ExportError.self) { try await harness.service.status(of: unknown, requester: "u1") }
    }

    @Test("listing is newest first and paginated")
    func listing() async throws {
        let harness = Harness()
        var ids: [JobID] = []
        for _ in 0..<5 {
            let ticket = try await harness.request()
            ids.append(ticket.jobID)
            _ = try await harness.service.cancel(ticket.jobID, requester: "u1")
            harness.clock.advance(by: .seconds(1))
        }
        let first = try await harness.service.list(requester: "u1", limit: 2)
        let second = try await harness.service.list(requester: "u1", after: first.next, limit: 2)
        let third = try await harness.service.list(requester: "u1", after: second.next, limit: 2)
        #expect((first.items + second.items + third.items).map(\.id) == ids.reversed())
        #expect(third.next == nil)
    }
}


/// A job store whose listing returns at most one job per page, as a filtered scan may.
struct OneJobPerPageStore: ForwardingJobStore {
    let inner: InMemoryJobStore

    init(_ inner: InMemoryJobStore) { self.inner = inner }

    func list(owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<ExportJob> {
        try await inner.list(owner: owner, after: cursor, limit: 1)
    }
}
