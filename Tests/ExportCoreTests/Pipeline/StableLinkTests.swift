import ExportAdapters
import ExportCore
import ExportTestSupport
import Foundation
import Testing

/// Links users can trust: with ``ExportSettings/downloadAddress`` set, every "ready" e-mail carries the
/// host's stable address (never a storage URL), valid until the file expires; a user deletes a
/// finished export files first, and a crash half-way is finished by the Reconciler.
@Suite("Stable download addresses and deleting finished exports")
struct StableLinkTests {
    static let address = try! DownloadAddress(apiBaseURL: URL(string: "https://app.example.com/api/")!)

    func ports(_ harness: Harness) -> ExportPorts {
        var ports = harness.ports()
        ports.settings.downloadAddress = Self.address
        return ports
    }

    func readyLink(_ harness: Harness) async throws -> ExportNotification.ReadyDetails {
        let sent = await harness.notifier.sent
        guard case .ready(let details) = try #require(sent.last).content else {
            Issue.record("not a ready e-mail: \(sent)")
            throw ExportError(.corruptData, "not ready")
        }
        return details
    }

    @Test("the e-mail carries https://host/api/exports/{id}/download until the file expires, also when the Reconciler sends it late")
    func emailCarriesStableAddress() async throws {
        let harness = Harness()
        let ticket = try await harness.request("u1")
        let ports = ports(harness)
        let worker = try ExportWorker(ports: ports, source: harness.source, configuration: .init(receiveWaitTime: .zero, pageSize: 2))
        try await worker.processAvailable()
        let job = try #require(await harness.jobs.job(ticket.jobID))
        #expect(job.state == .succeeded)
        let details = try await readyLink(harness)
        #expect(details.link.absoluteString == "https://app.example.com/api/exports/\(ticket.jobID.rawValue)/download")
        #expect(details.expiresAt == job.expiresAt && job.result?.linkExpiresAt == job.expiresAt)
        // A late e-mail (the send failed, the Reconciler repairs it) carries the same address.
        var pending = job
        pending.lifecycle = try JSONDecoder().decode(
            JobLifecycle.self, from: Data(#"{"attempt":1,"cancelRequested":false,"notified":false,"state":"succeeded"}"#.utf8))
        _ = try await harness.jobs.update(pending)
        await harness.notifier.removeAll()
        harness.clock.advance(by: .seconds(3600))
        let report = try await Reconciler(ports: ports).reconcile()
        #expect(report.notified == [ticket.jobID])
        #expect(try await readyLink(harness).link == details.link)
    }

    @Test("without an address, the e-mail carries a direct link of linkLifetime, as before")
    func directLinkWithoutAddress() async throws {
        let harness = Harness()
        _ = try await harness.request("u1")
        try await harness.worker().processAvailable()
        let details = try await readyLink(harness)
        #expect(details.link.absoluteString.hasPrefix("memory://blobs/"), "\(details.link)")
        #expect(details.expiresAt == Harness.t0.addingTimeInterval(3600))
    }

    @Test("an address template must be an absolute http(s) URL with {id} once in its path")
    func addressValidation() throws {
        for bad in ["exports/{id}", "https://h/exports", "https://h/{id}/{id}", "ftp://h/{id}", "https://h/x?id={id}", "https:///{id}"] {
            #expect(throws: ExportError.self, "\(bad)") { try DownloadAddress(template: bad) }
        }
        let custom = try DownloadAddress(template: "https://h.example/d/{id}")
        #expect(custom.url(for: JobID("job-1")!).absoluteString == "https://h.example/d/job-1")
    }

    @Test("deleting a finished export removes its files first; a failed delete leaves an expired record the Reconciler finishes")
    func deleteIsFilesFirst() async throws {
        let harness = Harness()
        let ticket = try await harness.request("u1")
        try await harness.worker().processAvailable()
        #expect(await harness.blobs.keys.count == 1)
        await #expect(throws: ExportError.self) { try await harness.service.deleteExport(ticket.jobID, requester: "u2") }
        harness.blobs.faults.failNext(.delete, with: ExportError(.unavailable, "bucket throttled"))
        await #expect(throws: ExportError.self) { try await harness.service.deleteExport(ticket.jobID, requester: "u1") }
        // Half-way: the file is still there, and the record says it expired (no new link is minted).
        #expect(await harness.blobs.keys.count == 1)
        let marked = try #require(await harness.jobs.job(ticket.jobID))
        #expect(marked.expiredAt == nil && marked.expiresAt == harness.clock.now())
        await #expect(throws: ExportError.self) { try await harness.service.downloadLink(for: ticket.jobID, requester: "u1") }
        harness.clock.advance(by: .seconds(1))
        let report = try await harness.reconciler().reconcile()
        #expect(report.expired == [ticket.jobID])
        #expect(await harness.blobs.keys.isEmpty)
        // Once done, deleting again answers with the tombstone.
        #expect(try await harness.service.deleteExport(ticket.jobID, requester: "u1").expiredAt != nil)
    }

    @Test("deleting removes the file at once and emits export.deleted; an unfinished export is cancelled, not deleted")
    func deleteNow() async throws {
        let harness = Harness()
        let done = try await harness.request("u1")
        try await harness.worker().processAvailable()
        let tombstone = try await harness.service.deleteExport(done.jobID, requester: "u1")
        #expect(tombstone.expiredAt == harness.clock.now() && tombstone.result != nil)
        #expect(await harness.blobs.keys.isEmpty)
        #expect(harness.events.names.contains("export.deleted"))
        let queued = try await harness.request("u2")
        await #expect { try await harness.service.deleteExport(queued.jobID, requester: "u2") } throws: {
            ($0 as? ExportError)?.code == .illegalTransition
        }
    }

    /// A blob store whose deletes first let "the worker" change the job, as happens when a user deletes
    /// an export in the instant its e-mail is recorded as sent.
    struct ChangingOnDelete: ForwardingBlobStore {
        let inner: any BlobStore
        let meanwhile: @Sendable () async throws -> Void
        func delete(_ key: BlobKey) async throws {
            try await meanwhile()
            try await inner.delete(key)
        }
    }

    @Test("a delete that races the job's own last update still succeeds, on the fresh record (schemathesis found the 503)")
    func deleteRacingAnUpdate() async throws {
        let harness = Harness()
        let done = try await harness.request("u1")
        try await harness.worker().processAvailable()
        let jobs = harness.jobs
        var ports = harness.ports()
        ports.blobStore = ChangingOnDelete(inner: harness.blobs) {
            try await jobs.modify(done.jobID) { job in
                job.updatedAt = job.updatedAt.addingTimeInterval(0.5)  // any change bumps the version
                return true
            }
        }
        let service = try ExportService(ports: ports)
        let tombstone = try await service.deleteExport(done.jobID, requester: "u1")
        #expect(tombstone.expiredAt == harness.clock.now())
        #expect(await harness.blobs.keys.isEmpty)
        let stored = try #require(await harness.jobs.job(done.jobID))
        #expect(stored.expiredAt != nil && stored.uniqueKey == nil)
        #expect(stored.updatedAt == harness.clock.now(), "the tombstone is written over the concurrent change, not lost to it")
    }
}
