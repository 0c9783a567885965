import ExportAdapters
import ExportCore
import Foundation
import Testing

// The embedding example of README.md, compiled and run; a test checks that README prints it verbatim.

/// The host's own data source: here a stand-in for a database query such as
/// `SELECT … WHERE user_id = $1 AND membership_id > $2 ORDER BY membership_id LIMIT $3`.
struct MyDatabaseSource: MembershipSource {
    let table: InMemoryMembershipSource
    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        try await table.memberships(of: owner, after: cursor, limit: limit)
    }
}

@Suite("README example")
struct ReadmeExampleTests {
    @Test("the embedding example runs end to end")
    func embedding() async throws {
        let database = MyDatabaseSource(table: InMemoryMembershipSource(Harness.sampleMemberships))
        let (done, signal) = AsyncStream<Void>.makeStream()
        let observer = ClosureObserver { if $0.name == "export.notified" { signal.yield() } }

        // README begins
        let jobs = InMemoryJobStore(), queue = InMemoryQueue(), blobs = InMemoryBlobStore()
        let mail = InMemoryNotifier()
        let service = ExportService(jobStore: jobs, queue: queue, blobStore: blobs)
        let worker = ExportWorker(
            jobStore: jobs, queue: queue, blobStore: blobs, notifier: mail, source: database, observer: observer)
        let workerTask = Task { await worker.run() }

        // In the API handler: record and queue the export, answer 202 with the job id.
        let user: UserID = "u1"  // the authenticated principal, never read from the body
        let ticket = try await service.request(ExportRequest(owner: user, recipient: "ada@example.com"))

        // Later, when the user polls:
        var done_ = done.makeAsyncIterator(); _ = await done_.next()  // (the test waits for the e-mail)
        let job = try await service.status(of: ticket.jobID, requester: user)
        print(job.state, job.result?.rows ?? 0)  // succeeded 3

        // On shutdown:
        worker.shutdown()
        await workerTask.value
        // README ends

        #expect(job.state == .succeeded)
        #expect(job.result?.rows == 3)
        #expect(await mail.sent.count == 1)
    }

    @Test("README.md prints the code between the markers above verbatim (less the test's own wait)")
    func readmeMirrorsCode() throws {
        let here = URL(fileURLWithPath: #filePath)
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: here, encoding: .utf8)
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let begin = try #require(lines.firstIndex { $0.hasSuffix("// README begins") })
        let end = try #require(lines.firstIndex { $0.hasSuffix("// README ends") })
        let snippet = lines[(begin + 1)..<end]
            .filter { !$0.contains("(the test waits for the e-mail)") }
            .map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : $0 }
            .joined(separator: "\n")
        #expect(readme.contains("```swift\nimport ExportAdapters\nimport ExportCore\n\n" + snippet + "\n```"), "README.md does not print the embedding example verbatim")
    }
}
