import ExportAdapters
import ExportCore
import ExportTestSupport
import Foundation
import Testing

/// `ExportAdministration` on the in-memory backend with a manual clock: listing across owners,
/// inspection, retry, dead letters, and the operator identity on every event.
@Suite("ExportAdministration")
struct AdministrationTests {
    let harness = Harness()
    let control = InMemoryWorkerControlStore()
    let alice: OperatorID = "alice"

    var admin: ExportAdministration {
        var ports = harness.ports()
        ports.workerControl = control
        return try! ExportAdministration(ports: ports)
    }

    /// A job of `owner` that failed for good (a permanent source error) and was dead-lettered.
    func failedJob(_ owner: UserID = "u1") async throws -> JobID {
        let ticket = try await harness.request(owner)
        let failing = InMemoryMembershipSource(Harness.sampleMemberships)
        failing.faults.failAlways(.page, with: ExportError(.permanent, "upstream said no"))
        try await harness.worker(source: failing).processAvailable()
        #expect(try await harness.job(ticket.jobID).state == .failed)
        return ticket.jobID
    }

    @Test("jobs across owners: oldest first, filtered by state and age, paged, with the operator on the event")
    func listing() async throws {
        var ids: [JobID] = []
        for owner in ["u1", "u2", "u3", "u4"] {
            ids.append(try await harness.request(UserID(owner)).jobID)
            harness.clock.advance(by: .seconds(60))
        }
        _ = try await harness.service.cancel(ids[1], requester: "u2")
        let all = try await admin.jobs(by: alice)
        #expect(all.items.map(\.id) == ids)
        let queued = try await admin.jobs(matching: JobFilter(states: [.queued]), by: alice)
        #expect(queued.items.map(\.id) == [ids[0], ids[2], ids[3]])
        // Created more than 90 s ago: the first three (the clock is 240 s past the first request).
        let old = JobFilter(states: [.queued], createdBefore: harness.clock.now().adding(.seconds(-90)))
        let first = try await admin.jobs(matching: old, limit: 1, by: alice)
        #expect(first.items.map(\.id) == [ids[0]])
        #expect(first.next != nil)
        let second = try await admin.jobs(matching: old, after: first.next, limit: 1, by: alice)
        #expect(second.items.map(\.id) == [ids[2]])
        #expect(second.next == nil)
        let listed = harness.events.all.filter { $0.name == .operatorJobsListed }
        #expect(listed.count == 4)
        #expect(listed.allSatisfy { $0.operatorID == alice })
        await #expect(throws: ExportError.self) { try await admin.jobs(after: PageCursor("garbage"), by: alice) }
        #expect(harness.events.all.last?.name == .operatorActionFailed)
        #expect(harness.events.all.last?.operatorID == alice)
    }

    @Test("inspect shows another owner's failed job with its failure and dead letter; retry runs it again with a fresh budget")
    func inspectAndRetry() async throws {
        let id = try await failedJob("u2")
        let inspection = try await admin.inspect(id, by: alice)
        #expect(inspection.job.owner == "u2")
        #expect(inspection.job.failure?.code == "permanent")
        #expect(inspection.job.lifecycle.failures == 1)
        #expect(inspection.deadLetters?.map(\.message.jobID) == [id])

        let retried = try await admin.retry(id, by: alice)
        #expect(retried.state == .queued)
        #expect(retried.lifecycle.failures == 0)
        #expect(retried.lifecycle.retries == 1)
        #expect(retried.failure == nil)
        try await harness.worker().processAvailable()
        let done = try await harness.job(id)
        #expect(done.state == .succeeded)
        #expect(done.attempt == 2)  // a new attempt
        let event = try #require(harness.events.all.first { $0.name == .operatorJobRetried })
        #expect(event.operatorID == alice)
        #expect(event.owner == "u2")
        #expect(event.jobID == id)
        #expect(harness.events.all.contains { $0.name == .operatorJobInspected && $0.operatorID == alice && $0.jobID == id })
    }

    @Test("retry refuses a job that did not fail (illegalTransition) and an unknown one (notFound), and says so on an event")
    func retryRefusals() async throws {
        let queued = try await harness.request("u1").jobID
        let notFailed = await #expect(throws: ExportError.self) { try await admin.retry(queued, by: alice) }
        #expect(notFailed?.code == .illegalTransition)
        let unknown = await #expect(throws: ExportError.self) { try await admin.retry(JobID("job-nope")!, by: alice) }
        #expect(unknown?.code == .notFound)
        let failures = harness.events.all.filter { $0.name == .operatorActionFailed }
        #expect(failures.count == 2)
        #expect(failures.allSatisfy { $0.operatorID == alice })
    }

    @Test("dead letters: list, inspect and redrive one; it runs again; an unknown id is notFound")
    func deadLetters() async throws {
        let id = try await failedJob()
        let letters = try await admin.deadLetters(by: alice)
        let letter = try #require(letters.first)
        #expect(letters.count == 1)
        #expect(letter.message.jobID == id)
        #expect(try await admin.deadLetter(letter.id, by: alice) == letter)
        try await admin.redrive(letter.id, by: alice)
        #expect(try await admin.deadLetters(by: alice).isEmpty)
        #expect(await harness.queue.visibleCount == 1)
        let again = await #expect(throws: ExportError.self) { try await admin.redrive(letter.id, by: alice) }
        #expect(again?.code == .notFound)
        let redriven = try #require(harness.events.all.first { $0.name == .operatorDeadLetterRedriven })
        #expect(redriven.operatorID == alice)
        #expect(redriven.jobID == id)
    }

    @Test("pausing needs a WorkerControlStore: without one it is unsupported, not silently ignored")
    func pauseWithoutStore() async throws {
        let bare = try ExportAdministration(ports: harness.ports())
        #expect(!bare.offersWorkerControl)
        let error = await #expect(throws: ExportError.self) { try await bare.pauseWorkers(by: alice) }
        #expect(error?.code == .unsupported)
        let paused = try await admin.pauseWorkers(by: alice, reason: "maintenance")
        #expect(paused == WorkerControl(paused: true, changedAt: harness.clock.now(), changedBy: alice, reason: "maintenance"))
        #expect(try await control.workerControl() == paused)
        #expect(harness.events.all.contains { $0.name == .operatorWorkersPaused && $0.operatorID == alice && $0.message == "maintenance" })
        #expect(try await admin.resumeWorkers(by: alice).paused == false)
    }

    @Test("a job store without listing across owners says unsupported")
    func unsupportedListing() async throws {
        let error = await #expect(throws: ExportError.self) {
            try await ExportAdministration(ports: harness.ports(jobStore: OwnerOnlyJobStore(inner: harness.jobs))).jobs(by: alice)
        }
        #expect(error?.code == .unsupported)
    }
}

/// A job store that keeps the default `jobs(matching:after:limit:)`: it cannot list across owners.
struct OwnerOnlyJobStore: ForwardingJobStore {
    let inner: InMemoryJobStore
}
