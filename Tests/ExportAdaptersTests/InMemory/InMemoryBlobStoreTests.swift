import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("InMemoryBlobStore")
struct InMemoryBlobStoreTests {
    let clock = ManualClock()
    let key = BlobKey("exports/alice/j1.csv")!

    func store(_ bytes: [UInt8], in store: InMemoryBlobStore) async throws {
        let writer = try await store.beginWrite(key: key, contentType: "text/csv")
        try await writer.append(bytes)
        _ = try await writer.finish()
    }

    @Test func inspectionShowsFinishedBlobsAndOpenWriters() async throws {
        let blobs = InMemoryBlobStore(clock: clock)
        let writer = try await blobs.beginWrite(key: key, contentType: "text/csv")
        try await writer.append(Array("a,b\r\n".utf8))
        #expect(await blobs.openWriterCount == 1)
        #expect(await blobs.contents(of: key) == nil)
        _ = try await writer.finish()
        #expect(await blobs.openWriterCount == 0)
        #expect(await blobs.contents(of: key) == Array("a,b\r\n".utf8))
        #expect(await blobs.keys == [key])
    }

    @Test func readYieldsChunksOfTheConfiguredSize() async throws {
        let blobs = InMemoryBlobStore(clock: clock, readChunkSize: 4)
        try await store(Array(0..<10), in: blobs)
        var chunks: [[UInt8]] = []
        for try await chunk in try await blobs.read(key) { chunks.append(chunk) }
        #expect(chunks == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    }

    @Test func aDownloadLinkWorksUntilItExpires() async throws {
        let blobs = InMemoryBlobStore(clock: clock)
        try await store([1, 2, 3], in: blobs)
        let link = try await blobs.downloadLink(for: key, filename: "memberships.csv", expiresIn: .seconds(3600))
        #expect(link.expiresAt == clock.now().addingTimeInterval(3600))
        #expect(link.url.absoluteString.hasPrefix("memory://blobs/exports/alice/j1.csv?expires=1767229200&filename=memberships.csv"))
        #expect(try await blobs.download(link.url) == [1, 2, 3])
        clock.advance(by: .seconds(3600))
        let error = await #expect(throws: ExportError.self) { try await blobs.download(link.url) }
        #expect(error?.code == .unauthorized)
    }

    @Test("a link is the URL URLComponents makes, whether or not its file name needs escaping", arguments: ["memberships.csv", "my export (2026).csv", "résumé.csv"])
    func aLinkIsWhatURLComponentsMakes(filename: String) async throws {
        let blobs = InMemoryBlobStore(clock: clock)
        try await store([1, 2, 3], in: blobs)
        let link = try await blobs.downloadLink(for: key, filename: filename, expiresIn: .seconds(3600))
        let parsed = try #require(URLComponents(url: link.url, resolvingAgainstBaseURL: false))
        let signature = try #require(parsed.queryItems?.first { $0.name == "signature" }?.value)
        var expected = URLComponents()
        expected.scheme = "memory"
        expected.host = "blobs"
        expected.path = "/" + key.rawValue
        expected.queryItems = [
            URLQueryItem(name: "expires", value: "1767229200"), URLQueryItem(name: "filename", value: filename),
            URLQueryItem(name: "signature", value: signature),
        ]
        #expect(link.url == expected.url)
        #expect(try await blobs.download(link.url) == [1, 2, 3])
    }

    @Test func anAlteredLinkIsRefused() async throws {
        let blobs = InMemoryBlobStore(clock: clock)
        try await store([1], in: blobs)
        let other = BlobKey("exports/bob/j2.csv")!
        let writer = try await blobs.beginWrite(key: other, contentType: "text/csv")
        _ = try await writer.finish()
        let link = try await blobs.downloadLink(for: key, filename: "m.csv", expiresIn: .seconds(60))
        let toOtherKey = URL(string: link.url.absoluteString.replacingOccurrences(of: "alice/j1", with: "bob/j2"))!
        let longer = URL(string: link.url.absoluteString.replacingOccurrences(of: "expires=1767225660", with: "expires=1767229999"))!
        #expect(longer != link.url)
        for altered in [toOtherKey, longer] {
            let error = await #expect(throws: ExportError.self) { try await blobs.download(altered) }
            #expect(error?.code == .unauthorized)
        }
    }

    @Test func linkLifetimesOutOfRangeAreRefused() async throws {
        let blobs = InMemoryBlobStore(clock: clock, maximumLinkLifetime: .seconds(600))
        try await store([1], in: blobs)
        for lifetime in [Duration.zero, .seconds(601)] {
            let error = await #expect(throws: ExportError.self) {
                try await blobs.downloadLink(for: key, filename: "m.csv", expiresIn: lifetime)
            }
            #expect(error?.code == .invalidRequest)
        }
    }

    @Test func anInjectedFinishFailureLeavesNothingVisibleAndTheWriterAbortable() async throws {
        let blobs = InMemoryBlobStore(clock: clock)
        blobs.faults.failNext(.finish, with: ExportError(.unavailable, "S3 down"))
        let writer = try await blobs.beginWrite(key: key, contentType: "text/csv")
        try await writer.append([1, 2])
        await #expect(throws: ExportError.self) { _ = try await writer.finish() }
        #expect(await blobs.keys.isEmpty)
        try await writer.abort()
        #expect(await blobs.openWriterCount == 0)
    }

    @Test func writesStartedBeforeTheCutOffAreCleanedUp() async throws {
        let blobs = InMemoryBlobStore(clock: clock)
        _ = try await blobs.beginWrite(key: key, contentType: "text/csv")
        clock.advance(by: .seconds(3600))
        let recent = try await blobs.beginWrite(key: BlobKey("recent.csv")!, contentType: "text/csv")
        #expect(try await blobs.abortIncompleteWrites(startedBefore: clock.now().addingTimeInterval(-60)) == 1)
        #expect(await blobs.openWriterCount == 1)
        _ = try await recent.finish()
    }
}
