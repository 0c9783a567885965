import ExportAdapters
import ExportCore
import Foundation
import Testing

/// Issue 17 items 4 and 5: `verify(_ url:)` accepts every link `link(for:)` makes, whatever the base
/// URL's encoding; a signature has one spelling (lower-case hex, exactly 32 bytes).
@Suite("Download links: encoded base paths and canonical signatures")
struct DownloadLinkCanonicalTests {
    static let secret = Array("0123456789abcdef0123456789abcdef".utf8)
    static let now = Date(timeIntervalSince1970: 1_767_225_600)

    @Test(
        "every link a signer makes verifies, whatever the base path's encoding",
        arguments: [
            "https://h.test", "https://h.test/", "https://h.test/dl", "https://h.test/dl/", "https://h.test/a/b/c",
            "https://h.test/d%20l",  // found by fuzzing: decoded path vs encoded path
            "https://h.test/d%20l/", "https://h.test/caf%C3%A9/files", "https://h.test/%7Euser/dl", "https://h.test/a%2Fb",
            "https://h.test/d+l", "https://h.test/d;l=1", "https://h.test:8443/x%25y",
        ])
    func encodedBases(_ base: String) throws {
        let signer = DownloadLinkSigner(secret: Self.secret, baseURL: try #require(URL(string: base)))
        for key in ["exports/u1/job-1.csv", "a", "x/y-z_1.csv"] {
            let blobKey = try #require(BlobKey(key))
            let link = signer.link(for: blobKey, filename: "m.csv", expiresAt: Self.now.addingTimeInterval(60))
            let verified = try signer.verify(link.url, now: Self.now)
            #expect(verified.key == blobKey, "\(link.url)")
        }
    }

    @Test("a link under another path, or a sibling path sharing the prefix, is refused")
    func otherPaths() throws {
        let signer = DownloadLinkSigner(secret: Self.secret, baseURL: URL(string: "https://h.test/d%20l")!)
        let link = signer.link(for: BlobKey("a.csv")!, filename: "m.csv", expiresAt: Self.now.addingTimeInterval(60))
        let token = DownloadLinkSigner.token(for: BlobKey("a.csv")!)
        let query = try #require(link.url.query)
        for path in ["/d%20lx/\(token)", "/d/\(token)", "/d%20l/extra/\(token)", "/\(token)", "/d%20l"] {
            let url = try #require(URL(string: "https://h.test\(path)?\(query)"))
            #expect(throws: DownloadLinkRejection.self, "\(url)") { try signer.verify(url, now: Self.now) }
        }
    }

    @Test("signatures are lower-case hex of exactly 32 bytes: upper case, short and long spellings are malformed")
    func canonicalSignature() throws {
        let signer = DownloadLinkSigner(secret: Self.secret, baseURL: URL(string: "https://h.test/dl")!)
        let key = BlobKey("exports/u1/job-1.csv")!
        let link = signer.link(for: key, filename: "m.csv", expiresAt: Self.now.addingTimeInterval(60))
        var query: [String: String] = [:]
        for item in URLComponents(url: link.url, resolvingAgainstBaseURL: false)?.queryItems ?? [] { query[item.name] = item.value }
        let signature = try #require(query["signature"])
        #expect(try signer.verify(key: key.rawValue, query: query, now: Self.now).key == key)
        for variant in [signature.uppercased(), Self.upperCasingFirstLetter(signature), signature + "00", String(signature.dropLast(2)), ""] {
            var altered = query
            altered["signature"] = variant
            #expect(throws: DownloadLinkRejection.self, "\(variant)") { try signer.verify(key: key.rawValue, query: altered, now: Self.now) }
        }
    }

    static func upperCasingFirstLetter(_ text: String) -> String {
        guard let index = text.firstIndex(where: { $0.isLetter }) else { return text + "x" }
        return text.replacingCharacters(in: index...index, with: text[index].uppercased())
    }

    @Test("Hex.decodeCanonical takes only lower-case digits, exactly the length asked for")
    func hexCanonical() {
        #expect(Hex.decodeCanonical("00ff10", byteCount: 3) == [0x00, 0xFF, 0x10])
        #expect(Hex.decodeCanonical("00FF10", byteCount: 3) == nil)
        #expect(Hex.decodeCanonical("00ff1", byteCount: 3) == nil)
        #expect(Hex.decodeCanonical("00ff1000", byteCount: 3) == nil)
        #expect(Hex.decodeCanonical("00fg10", byteCount: 3) == nil)
        #expect(Hex.decodeCanonical("", byteCount: 0) == [])
    }

    @Test("a webhook signature in upper-case hex does not verify")
    func webhookUpperCase() {
        let body = Array(#"{"a":1}"#.utf8)
        let header = WebhookSignature.sign(body: body, secret: Self.secret, timestamp: Self.now)
        #expect(WebhookSignature.verify(header: header, body: body, secret: Self.secret, now: Self.now))
        #expect(!WebhookSignature.verify(header: header.uppercased().replacingOccurrences(of: "T=", with: "t=").replacingOccurrences(of: "V1=", with: "v1="), body: body, secret: Self.secret, now: Self.now))
    }
}
