import ExportAdapters
import ExportCore
@testable import ExportFileSystem
import Foundation
import Synchronization
import Testing

@Suite("FileJobStore")
struct FileJobStoreTests {
    @Test("create is idempotent by id; compare-and-swap by version")
    func createAndCompareAndSwap() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.url)
        let created = try await store.create(FSFixtures.job("a"))
        guard case .created(let stored) = created else { Issue.record("expected .created"); return }
        #expect(stored.version == 1)
        let again = try await store.create(FSFixtures.job("a", createdAt: FSFixtures.start.addingTimeInterval(5)))
        #expect(again == .existing(stored))

        var changed = stored
        changed.rowsWritten = 42
        let updated = try await store.update(changed)
        #expect(updated.version == 2)
        #expect(try await store.get(stored.id) == updated)

        // A writer holding the old version loses, and nothing changes.
        await expectExportError(.versionConflict) { try await store.update(changed) }
        #expect(try await store.get(stored.id)?.rowsWritten == 42)
        await expectExportError(.notFound) { try await store.update(FSFixtures.job("missing")) }
        #expect(try await store.get(JobID("missing")!) == nil)
    }

    @Test("owner, id and creation time never change through update")
    func immutableFields() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.url)
        var job = try await store.create(FSFixtures.job("a")).job
        job.owner = "mallory"
        job.createdAt = FSFixtures.start.addingTimeInterval(999)
        let updated = try await store.update(job)
        #expect(updated.owner == "u1")
        #expect(updated.createdAt == FSFixtures.start)
    }

    @Test("compare-and-swap holds across store instances racing on one directory")
    func racingInstances() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let base = try await FileJobStore(directory: directory.url).create(FSFixtures.job("race")).job
        // Separate instances open separate lock descriptions, exactly like separate processes do.
        let stores = try (0..<8).map { _ in try FileJobStore(directory: directory.url) }
        let winners = await withTaskGroup(of: Bool.self) { group in
            for (index, store) in stores.enumerated() {
                group.addTask {
                    var attempt = base
                    attempt.rowsWritten = Int64(index)
                    return (try? await store.update(attempt)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
        #expect(try await stores[0].get(base.id)?.version == 2)
    }

    @Test("a unique key is held by one active job and released when it ends")
    func uniqueKey() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.url)
        let first = try await store.create(FSFixtures.job("first", uniqueKey: "owner:u1")).job
        let stores = try (0..<6).map { _ in try FileJobStore(directory: directory.url) }
        let outcomes = await withTaskGroup(of: JobCreation?.self) { group in
            for (index, other) in stores.enumerated() {
                group.addTask { try? await other.create(FSFixtures.job("dup\(index)", uniqueKey: "owner:u1")) }
            }
            return await group.reduce(into: [JobCreation?]()) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { $0 == .existing(first) })

        var cancelled = first
        _ = try cancelled.lifecycle.requestCancel()
        _ = try await store.update(cancelled)
        let next = try await store.create(FSFixtures.job("second", uniqueKey: "owner:u1"))
        guard case .created = next else { Issue.record("the key was not released: \(next)"); return }
    }

    @Test("listing is newest first, paged with a cursor, and scoped to the owner")
    func listing() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.url)
        var expected: [JobID] = []
        for index in 0..<13 {
            // Pairs share a creation time so the id breaks the tie.
            let job = FSFixtures.job(String(format: "job-%02d", index), createdAt: FSFixtures.start.addingTimeInterval(Double(index / 2)))
            _ = try await store.create(job)
            expected.append(job.id)
        }
        _ = try await store.create(FSFixtures.job("other-owner", owner: "u2", createdAt: FSFixtures.start.addingTimeInterval(100)))
        expected.reverse()
        var seen: [JobID] = []
        var cursor: PageCursor?
        repeat {
            let page = try await store.list(owner: "u1", after: cursor, limit: 5)
            #expect(page.items.count <= 5)
            seen += page.items.map(\.id)
            cursor = page.next
        } while cursor != nil
        #expect(seen == expected)
        await expectExportError(.invalidRequest) { try await store.list(owner: "u1", after: PageCursor("../x"), limit: 5) }
    }

    @Test("a corrupt record is reported, moved to corrupt/, and everything else keeps working")
    func corruptRecord() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.url)
        _ = try await store.create(FSFixtures.job("good"))
        _ = try await store.create(FSFixtures.job("bad", createdAt: FSFixtures.start.addingTimeInterval(1)))
        try directory.write("{\"id\": \"bad\", truncated", to: "jobs/bad.json")

        let page = try await store.list(owner: "u1", after: nil, limit: 10)
        #expect(page.items.map(\.id.rawValue) == ["good"])
        #expect(directory.list("corrupt").count == 1)
        #expect(try await store.get(JobID("bad")!) == nil)
        #expect(try await store.get(JobID("good")!) != nil)

        _ = try await store.create(FSFixtures.job("bad2"))
        try directory.write("not json", to: "jobs/bad2.json")
        await expectExportError(.corruptData) { try await store.get(JobID("bad2")!) }
        #expect(directory.list("corrupt").count == 2)
        #expect(try await store.stale(in: [.queued], updatedBefore: FSFixtures.start.addingTimeInterval(10), limit: 10).map(\.id.rawValue) == ["good"])
    }

    @Test("a record with a state from a newer version is left in place, reported, and never lets a second job in")
    func newerVersionRecordStaysPut() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let reports = Mutex<[CorruptFileReport]>([])
        let store = try FileJobStore(directory: directory.url, onCorruptFile: { report in reports.withLock { $0.append(report) } })
        _ = try await store.create(FSFixtures.job("newer", uniqueKey: "active-export:u1"))
        let written = try directory.read("jobs/newer.json")
        let newer = written.replacingOccurrences(of: #""state":"queued""#, with: #""state":"paused_by_operator""#)
        #expect(newer != written)
        try directory.write(newer, to: "jobs/newer.json")

        let error = await expectExportError(.unsupportedVersion) { try await store.get(JobID("newer")!) }
        #expect(error?.message.contains("paused_by_operator") == true)
        await expectExportError(.unsupportedVersion) { try await store.list(owner: "u1", after: nil, limit: 10) }
        // The same unique key (the service's one-active-export key): no second job.
        await expectExportError(.unsupportedVersion) { try await store.create(FSFixtures.job("second", uniqueKey: "active-export:u1")) }
        await expectExportError(.unsupportedVersion) { try await store.update(FSFixtures.job("newer")) }
        // Scans skip it and report it, without moving it.
        #expect(try await store.stale(in: [.queued], updatedBefore: FSFixtures.start.addingTimeInterval(10), limit: 10).isEmpty)
        #expect(reports.withLock { $0.map(\.path) }.contains { $0.hasSuffix("jobs/newer.json") })
        #expect(reports.withLock { $0.allSatisfy { $0.movedTo == $0.path && $0.description.contains("left in place") } })
        #expect(directory.list("corrupt").isEmpty)
        #expect(try directory.read("jobs/newer.json") == newer)
        #expect(try await store.get(JobID("second")!) == nil)
    }

    @Test("a record holding an id that differs only in case is 'not found', never moved aside")
    func caseTwinIsNotCorrupt() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.url)
        let lower = "abcdef-0123"
        _ = try await store.create(FSFixtures.job(lower))
        // On macOS `jobs/ABCDEF-0123.json` opens `jobs/abcdef-0123.json`; here that is simulated by
        // putting the lower-case record under the upper-case name.
        let record = try directory.read("jobs/\(lower).json")
        try directory.write(record, to: "jobs/ABCDEF-0123.json")
        let upper = JobID("ABCDEF-0123")!

        #expect(try await store.get(upper) == nil)
        await expectExportError(.notFound) { try await store.update(FSFixtures.job("ABCDEF-0123")) }
        // A create must not overwrite the twin's file either.
        await expectExportError(.alreadyExists) { try await store.create(FSFixtures.job("ABCDEF-0123")) }
        #expect(try await store.stale(in: [.queued], updatedBefore: FSFixtures.start.addingTimeInterval(10), limit: 10).map(\.id.rawValue) == [lower])
        #expect(directory.list("corrupt").isEmpty)
        #expect(try directory.read("jobs/ABCDEF-0123.json") == record)
        #expect(try await store.get(JobID(lower)!)?.id.rawValue == lower)
    }

    @Test("a create interrupted between index entry and record leaves nothing visible")
    func interruptedCreate() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.url)
        let job = try await store.create(FSFixtures.job("real")).job
        // Simulate a crash after the index entry of "ghost" was written but before its record.
        let ownerDirectory = try #require(directory.list("owners").first)
        let ghostEntry = try #require(directory.list("owners/\(ownerDirectory)").first).replacingOccurrences(of: "_real", with: "_ghost")
        try directory.write("", to: "owners/\(ownerDirectory)/\(ghostEntry)")
        let page = try await store.list(owner: "u1", after: nil, limit: 10)
        #expect(page.items == [job])
        #expect(directory.list("owners/\(ownerDirectory)").count == 1, "the dangling entry is cleaned up")
    }

    @Test("an interrupted create whose id is created again later is listed once (ids of schedule runs repeat)")
    func interruptedCreateOfARepeatedID() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.url)
        var job = FSFixtures.job("s-run-1")
        // A first process wrote its index entry (created at t0) and died before the record.
        let ownerDirectory = SHA256Hasher.hash(Array(job.owner.rawValue.utf8)).hexString
        try FileManager.default.createDirectory(at: directory.url.appendingPathComponent("owners/\(ownerDirectory)"), withIntermediateDirectories: true)
        try directory.write("", to: "owners/\(ownerDirectory)/\(FileJobStore.indexEntry(job))")
        // Another process creates the same id a second later.
        job.createdAt = job.createdAt.addingTimeInterval(1)
        job.updatedAt = job.createdAt
        let created = try await store.create(job).job
        let page = try await store.list(owner: job.owner, after: nil, limit: 10)
        #expect(page.items == [created], "listed \(page.items.count) times")
        #expect(directory.list("owners/\(ownerDirectory)") == [FileJobStore.indexEntry(created)], "the stale entry is cleaned up")
    }

    @Test("stale finds old jobs in the given states; deleteExpired removes only expired ones")
    func staleAndExpiry() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let store = try FileJobStore(directory: directory.url)
        let old = try await store.create(FSFixtures.job("old")).job
        var recent = FSFixtures.job("recent")
        recent.updatedAt = FSFixtures.start.addingTimeInterval(600)
        _ = try await store.create(recent)
        let stale = try await store.stale(in: [.queued], updatedBefore: FSFixtures.start.addingTimeInterval(300), limit: 10)
        #expect(stale.map(\.id) == [old.id])
        #expect(try await store.stale(in: [.running], updatedBefore: FSFixtures.start.addingTimeInterval(300), limit: 10).isEmpty)

        var expiring = old
        _ = try expiring.lifecycle.requestCancel()
        expiring.expiresAt = FSFixtures.start.addingTimeInterval(3600)
        _ = try await store.update(expiring)
        #expect(try await store.expired(now: FSFixtures.start.addingTimeInterval(3599), limit: 10).isEmpty)
        let expired = try await store.expired(now: FSFixtures.start.addingTimeInterval(3600), limit: 10)
        #expect(expired.map(\.id) == [old.id])
        #expect(try await store.get(old.id) != nil, "listing expired jobs must not delete them")
        for job in expired { try await store.delete(job) }
        #expect(try await store.get(old.id) == nil)
        #expect(try await store.list(owner: "u1", after: nil, limit: 10).items.map(\.id.rawValue) == ["recent"])
    }

    @Test("records survive reopening the store")
    func durability() async throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let job = try await FileJobStore(directory: directory.url).create(FSFixtures.job("kept")).job
        #expect(try await FileJobStore(directory: directory.url).get(job.id) == job)
        #expect(directory.list("tmp").isEmpty, "no temp files are left behind")
    }

    @Test("an unwritable root is a clear permission error")
    func unwritableRoot() throws {
        let directory = try TestDirectory("jobs")
        defer { directory.remove() }
        let target = try unwritableDirectory(in: directory)
        #expect(throws: ExportError.self) { try FileJobStore(directory: target) }
        do {
            _ = try FileJobStore(directory: target)
        } catch {
            #expect(error.code == .permissionDenied, "\(error)")
            #expect(!error.isRetryable)
        }
        // A root below a regular file cannot be created either.
        try directory.write("x", to: "file")
        #expect(throws: ExportError.self) { try FileJobStore(directory: directory.url.appendingPathComponent("file/store")) }
    }
}
