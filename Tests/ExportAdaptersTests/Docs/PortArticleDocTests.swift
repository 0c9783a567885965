// The code of ExportCore's "Implementing a …" DocC articles, compiled and run here; each article
// must print exactly the regions marked with its name, so neither can change alone.
import ExportAdapters
import ExportConformance
import ExportCore
import Foundation
import Testing

@Suite("Docs: the Implementing a … articles")
struct PortArticleDocTests {
    static let articles = [
        "ImplementingAJobStore", "ImplementingAQueue", "ImplementingABlobStore", "ImplementingANotifier",
        "ImplementingAMembershipSource", "ImplementingASignedDownloadResolver",
    ]

    @Test("Each article prints this file's regions of its name verbatim, block for block", arguments: articles)
    func articlePrintsThisCode(_ article: String) throws {
        let blocks = try DocBlocks.swiftBlocks("Sources/ExportCore/ExportCore.docc/\(article).md")
        let regions = try DocBlocks.regions(article, in: #filePath)
        #expect(!regions.isEmpty, "no code of \(article) is compiled here")
        #expect(blocks == regions, "\(article).md does not print this file's code")
    }

    @Test func jobStore() async throws {
        // ImplementingAJobStore block begins
        try await JobStoreConformance { InMemoryJobStore() }.run()
        // ImplementingAJobStore block ends
    }

    @Test func queue() async throws {
        // ImplementingAQueue block begins
        let clock = ManualClock()
        try await QueueConformance(
            configuration: .init(visibilityTimeout: .seconds(30)),
            makeQueue: { InMemoryQueue(clock: clock) },
            advance: { clock.advance(by: $0) },
            now: { clock.now() }
        ).run()
        // ImplementingAQueue block ends
    }

    @Test func blobStore() async throws {
        // ImplementingABlobStore block begins
        let clock = ManualClock()
        try await BlobStoreConformance(makeStore: { InMemoryBlobStore(clock: clock) }, now: { clock.now() }).run()
        // ImplementingABlobStore block ends
    }

    @Test func notifier() async throws {
        // ImplementingANotifier block begins
        let notifier = InMemoryNotifier()
        try await NotifierConformance(
            makeNotifier: { notifier },
            deliveredCount: { await notifier.deliveryCount(for: $0) }
        ).run()
        // ImplementingANotifier block ends
    }

    @Test func membershipSource() async throws {
        // ImplementingAMembershipSource block begins
        try await MembershipSourceConformance { rows in InMemoryMembershipSource(rows) }.run()
        // ImplementingAMembershipSource block ends
    }

    @Test func signedDownloadResolver() async throws {
        let directory = try TestDirectory("resolver-article")
        defer { directory.remove() }
        let clock = ManualClock()
        let store = try FileBlobStore(
            configuration: .init(
                directory: directory.url, linkSecret: Array("a link secret of at least sixteen bytes".utf8),
                linkBaseURL: URL(string: "https://files.example.com/downloads")!),
            clock: clock)
        let key = BlobKey("exports/u1/job-1.csv")!

        // ImplementingASignedDownloadResolver block begins
        let link = try await store.downloadLink(for: key, filename: "m.csv", expiresIn: .seconds(60))
        let url = try #require(URLComponents(url: link.url, resolvingAgainstBaseURL: false))
        let path = String(url.path.dropFirst("/downloads".count))
        let query = url.queryItems ?? []

        #expect(try await store.verify(path: path, query: query) == .valid(key: key, filename: "m.csv"))
        let recased = query.map { $0.name == "signature" ? URLQueryItem(name: $0.name, value: $0.value?.uppercased()) : $0 }
        #expect(try await store.verify(path: path, query: recased) == .badSignature)
        #expect(try await store.verify(path: path, query: query + [URLQueryItem(name: "x", value: "1")]) == .badSignature)
        clock.advance(by: .seconds(60))
        #expect(try await store.verify(path: path, query: query) == .expired)
        // ImplementingASignedDownloadResolver block ends
    }
}
