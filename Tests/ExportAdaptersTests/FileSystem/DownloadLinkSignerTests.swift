import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("Signed download links")
struct DownloadLinkSignerTests {
    static func setUp(_ directory: TestDirectory) throws -> (FileBlobStore, ManualClock, DownloadLinkSigner) {
        let clock = ManualClock()
        let base = URL(string: "https://files.example.com/downloads")!
        let store = try FileBlobStore(
            configuration: .init(directory: directory.url, linkSecret: FileBlobStoreTests.secret, linkBaseURL: base), clock: clock)
        return (store, clock, DownloadLinkSigner(secret: FileBlobStoreTests.secret, baseURL: base))
    }

    static func query(_ url: URL) -> [String: String] {
        var query: [String: String] = [:]
        for item in URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? [] { query[item.name] = item.value }
        return query
    }

    @Test("a fresh link verifies to its key and file name, until it expires")
    func roundTrip() async throws {
        let directory = try TestDirectory("links")
        defer { directory.remove() }
        let (store, clock, signer) = try Self.setUp(directory)
        let key = BlobKey("exports/u1/job-1.csv")!
        let link = try await store.downloadLink(for: key, filename: "memberships 2026.csv", expiresIn: .seconds(3600))
        // One path segment: the key's unpadded base64url.
        #expect(link.url.absoluteString.hasPrefix("https://files.example.com/downloads/ZXhwb3J0cy91MS9qb2ItMS5jc3Y?expires="))
        #expect(DownloadLinkSigner.keyText(fromToken: "ZXhwb3J0cy91MS9qb2ItMS5jc3Y") == "exports/u1/job-1.csv")
        #expect(link.expiresAt == clock.now().addingTimeInterval(3600))
        let verified = try signer.verify(link.url, now: clock.now())
        #expect(verified == VerifiedDownload(key: key, filename: "memberships_2026.csv", expiresAt: link.expiresAt))
        #expect(try signer.verify(link.url, now: link.expiresAt.addingTimeInterval(-1)).key == key)
        #expect(throws: DownloadLinkRejection.expired(at: link.expiresAt)) { try signer.verify(link.url, now: link.expiresAt) }
        // A link has one spelling: an unsigned parameter riding along is refused (found by Fuzz/FuzzHTTPAPI).
        let padded = try #require(URL(string: link.url.absoluteString + "&utm_source=mail"))
        #expect(throws: DownloadLinkRejection.malformed("the parameter \"utm_source\" is not part of a download link")) {
            try signer.verify(padded, now: clock.now())
        }
    }

    @Test("tampering with any part is a bad signature", arguments: ["key", "expires", "filename", "signature"])
    func tampering(part: String) async throws {
        let directory = try TestDirectory("links")
        defer { directory.remove() }
        let (store, clock, signer) = try Self.setUp(directory)
        let link = try await store.downloadLink(for: BlobKey("exports/u1/a.csv")!, filename: "a.csv", expiresIn: .seconds(60))
        var query = Self.query(link.url)
        var key = "exports/u1/a.csv"
        switch part {
        case "key": key = "exports/u2/a.csv"
        case "expires": query["expires"] = String(Int(query["expires"]!)! + 86_400)
        case "filename": query["filename"] = "b.csv"
        default:
            var signature = Array(query["signature"]!)
            signature[0] = signature[0] == "0" ? "1" : "0"
            query["signature"] = String(signature)
        }
        #expect(throws: DownloadLinkRejection.badSignature) { try signer.verify(key: key, query: query, now: clock.now()) }
    }

    @Test("another secret does not verify; malformed links are malformed")
    func otherSecretAndMalformed() async throws {
        let directory = try TestDirectory("links")
        defer { directory.remove() }
        let (store, clock, signer) = try Self.setUp(directory)
        let link = try await store.downloadLink(for: BlobKey("a.csv")!, filename: "a.csv", expiresIn: .seconds(60))
        let other = DownloadLinkSigner(secret: Array("another secret of enough length".utf8), baseURL: signer.baseURL)
        #expect(throws: DownloadLinkRejection.badSignature) { try other.verify(link.url, now: clock.now()) }
        let query = Self.query(link.url)
        for (key, broken) in [
            ("../a.csv", query), ("a.csv", query.filter { $0.key != "signature" }),
            ("a.csv", query.merging(["expires": "soon"]) { $1 }), ("a.csv", query.merging(["filename": "a\r\nb"]) { $1 }),
        ] {
            #expect(throws: DownloadLinkRejection.self) { try signer.verify(key: key, query: broken, now: clock.now()) }
            do {
                _ = try signer.verify(key: key, query: broken, now: clock.now())
            } catch {
                guard case .malformed = error else { Issue.record("expected .malformed, got \(error)"); continue }
                #expect(error.exportError.code == .invalidRequest)
            }
        }
        #expect(throws: DownloadLinkRejection.self) { try signer.verify(URL(string: "https://files.example.com/elsewhere/a.csv")!, now: clock.now()) }
    }

    @Test("link lifetimes are bounded")
    func lifetime() async throws {
        let directory = try TestDirectory("links")
        defer { directory.remove() }
        let (store, _, _) = try Self.setUp(directory)
        await expectExportError(.invalidRequest) { try await store.downloadLink(for: BlobKey("a")!, filename: "a", expiresIn: .seconds(8 * 86_400)) }
        await expectExportError(.invalidRequest) { try await store.downloadLink(for: BlobKey("a")!, filename: "a", expiresIn: .zero) }
    }

    @Test("file names are reduced to a safe alphabet", arguments: [
        ("report.csv", "report.csv"), ("../../etc/passwd", "_.._etc_passwd"), ("a\"b\r\nc", "a_b__c"), ("", "download"), ("...", "download"),
    ])
    func filenames(input: String, expected: String) {
        #expect(DownloadLinkSigner.sanitizedFilename(input) == expected)
    }
}

@Suite("FileBlobStore as the HTTP API's signed-download resolver")
struct FileBlobStoreResolverTests {
    @Test("valid, tampered, foreign, malformed and expired links")
    func verdicts() async throws {
        let directory = try TestDirectory("resolver")
        defer { directory.remove() }
        let (store, clock, _) = try DownloadLinkSignerTests.setUp(directory)
        let key = BlobKey("exports/job-1.csv")!
        let link = try await store.downloadLink(for: key, filename: "m.csv", expiresIn: .seconds(60))
        let components = try #require(URLComponents(url: link.url, resolvingAgainstBaseURL: false))
        let path = String(components.path.dropFirst("/downloads".count))
        let query = components.queryItems ?? []
        #expect(path == "/" + DownloadLinkSigner.token(for: key))  // one segment
        #expect(try await store.verify(path: path, query: query) == .valid(key: key, filename: "m.csv"))
        #expect(try await store.verify(path: "/" + DownloadLinkSigner.token(for: BlobKey("exports/job-2.csv")!), query: query) == .badSignature)
        #expect(try await store.verify(path: "/exports/job-1.csv", query: query) == .badSignature)  // the key as a path
        #expect(try await store.verify(path: path, query: query + [URLQueryItem(name: "expires", value: "1")]) == .badSignature)
        #expect(try await store.verify(path: "/../etc/passwd", query: query) == .badSignature)
        // Found by Fuzz/FuzzHTTPAPI: an unsigned extra parameter, in any position, was served.
        #expect(try await store.verify(path: path, query: query + [URLQueryItem(name: "extra", value: "1")]) == .badSignature)
        #expect(try await store.verify(path: path, query: [URLQueryItem(name: "utm_source", value: nil)] + query) == .badSignature)
        #expect(try await store.verify(path: path, query: query.reversed()) == .valid(key: key, filename: "m.csv"))  // order is not spelling
        #expect(try await store.verify(path: "", query: []) == .badSignature)
        clock.advance(by: .seconds(60))
        #expect(try await store.verify(path: path, query: query) == .expired)
    }
}
