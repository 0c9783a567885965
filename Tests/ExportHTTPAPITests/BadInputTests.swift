import ExportAdapters
import ExportCore
import ExportHTTPAPI
import Foundation
import Testing

@Suite("HTTP API: bad input")
struct BadInputTests {
    struct BadBody: CustomTestStringConvertible, Sendable {
        let body: String
        let status: Int
        let field: String
        let type: String
        var testDescription: String { "\(status) \(field): \(body.prefix(40))" }
    }

    static let bodies: [BadBody] = [
        BadBody(body: #"{"format":"csv""#, status: 400, field: "body", type: "invalid-body"),
        BadBody(body: "not json", status: 400, field: "body", type: "invalid-body"),
        BadBody(body: #"["csv"]"#, status: 400, field: "body", type: "invalid-body"),
        BadBody(body: #""csv""#, status: 400, field: "body", type: "invalid-body"),
        BadBody(body: #"{"format":42}"#, status: 400, field: "format", type: "invalid-body"),
        BadBody(body: #"{"format":true}"#, status: 400, field: "format", type: "invalid-body"),
        BadBody(body: #"{"columns":"plan"}"#, status: 400, field: "columns", type: "invalid-body"),
        BadBody(body: #"{"columns":["plan",7]}"#, status: 400, field: "columns", type: "invalid-body"),
        BadBody(body: #"{"columns":["plan",null]}"#, status: 400, field: "columns", type: "invalid-body"),
        BadBody(body: #"{"format":"csv","owner":"u2"}"#, status: 400, field: "owner", type: "invalid-body"),
        BadBody(body: #"{"recipient":"evil@example.com"}"#, status: 400, field: "recipient", type: "invalid-body"),
        BadBody(body: #"{"format":"xlsx"}"#, status: 400, field: "format", type: "unsupported-format"),
        BadBody(body: #"{"columns":["plan","password_hash"]}"#, status: 400, field: "columns", type: "unknown-column"),
        BadBody(body: #"{"columns":[]}"#, status: 400, field: "columns", type: "unknown-column"),
        BadBody(body: #"{"columns":["plan","plan"]}"#, status: 400, field: "columns", type: "unknown-column"),
        BadBody(body: String(repeating: "[", count: 5000), status: 400, field: "body", type: "invalid-body"),
    ]

    @Test("POST /exports with a bad body: 400 problem+json naming the field, nothing recorded or queued", arguments: bodies)
    func badBody(_ bad: BadBody) async throws {
        let api = APIHarness()
        let exchange = try await api.send("POST", "/exports", body: bad.body)
        #expect(exchange.status == bad.status)
        #expect(exchange.header("Content-Type") == "application/problem+json")
        let object = try exchange.object()
        #expect(object["type"] as? String == "https://membership-export.dev/problems/\(bad.type)")
        #expect(object["status"] as? Int == bad.status)
        #expect(try exchange.invalidParams() == [bad.field])
        #expect(await api.jobs.count == 0)
        #expect(await api.queue.visibleCount == 0)
    }

    @Test("A body over the configured limit is 413, by length and by Content-Length; nothing enqueued")
    func oversized() async throws {
        let api = APIHarness(maxBodyBytes: 64)
        let big = #"{"columns":["# + String(repeating: #""plan","#, count: 20) + #""plan"]}"#
        let exchange = try await api.send("POST", "/exports", body: big)
        #expect(exchange.status == 413)
        #expect(try exchange.object()["type"] as? String == "https://membership-export.dev/problems/body-too-large")
        let declared = try await api.send("POST", "/exports", headers: [("Content-Length", "1000000")], body: "{}")
        #expect(declared.status == 413)
        #expect(try await api.send("POST", "/exports", body: #"{"format":"csv"}"#).status == 202)
        #expect(await api.jobs.count == 1)
    }

    @Test("Routes without a body never answer 413, however large a body or Content-Length is sent")
    func bodyLimitOnlyOnPost() async throws {
        let api = APIHarness(maxBodyBytes: 64)
        let id = try await api.succeededExport()
        let big = String(repeating: "x", count: 1000)
        let huge = [(name: "Content-Length", value: "1000000")]
        #expect(try await api.send("GET", "/exports", headers: huge, body: big).status == 200)
        #expect(try await api.send("GET", "/exports/\(id)", headers: huge, body: big).status == 200)
        #expect(try await api.send("GET", "/exports/\(id)/download", headers: huge, body: big).status == 302)
        let (link, query) = try await api.mintedLink(id)
        #expect(try await api.send("GET", link, query: query, headers: huge, body: big, user: nil).status == 200)
        #expect(try await api.send("DELETE", "/exports/\(id)", headers: huge, body: big).status == 204)
    }

    @Test("A body that is not declared as JSON is 415")
    func wrongMediaType() async throws {
        let api = APIHarness()
        let exchange = try await api.send("POST", "/exports", headers: [("Content-Type", "text/plain")], body: #"{"format":"csv"}"#)
        #expect(exchange.status == 415)
        let bare = try await api.send("POST", "/exports", headers: [("Content-Type", "")], body: #"{"format":"csv"}"#)
        #expect(bare.status == 415)
        #expect(await api.jobs.count == 0)
        #expect(await api.queue.visibleCount == 0)
        #expect(try await api.send("POST", "/exports", headers: [("content-type", "application/merge-patch+json; charset=utf-8")], body: "{}").status == 202)
    }

    @Test("Header fields with CR, LF or NUL are 400 and the value (a token) is never echoed", arguments: [
        ("Authorization", "Bearer s3cr3t-t0ken\r\nX-Injected: 1"), ("X-Trace\n", "s3cr3t-t0ken"), ("Authorization", "Bearer s3cr3t-t0ken\0"),
    ])
    func headerInjection(_ field: (String, String)) async throws {
        let api = APIHarness()
        let exchange = try await api.send("POST", "/exports", headers: [field], body: "{}")
        #expect(exchange.status == 400)
        #expect(try exchange.object()["type"] as? String == "https://membership-export.dev/problems/invalid-header")
        #expect(try exchange.invalidParams() == ["headers"])
        #expect(!exchange.text.contains("s3cr3t"))
        #expect(!exchange.response.headers.contains { $0.value.contains("s3cr3t") })
        #expect(await api.jobs.count == 0)
        #expect(await api.queue.visibleCount == 0)
        #expect(api.events.all.isEmpty)
    }

    @Test("The caller's token appears nowhere the handler emits: responses, events, stored jobs, queued messages")
    func tokenNeverEchoed() async throws {
        let api = APIHarness()
        let auth = [("Authorization", "Bearer s3cr3t-t0ken"), ("Cookie", "session=s3cr3t-t0ken")]
        var exchanges: [Exchange] = []
        // Accepted requests too: a success path that logged its headers would leak as well.
        let accepted = try await api.send("POST", "/exports", headers: auth, body: #"{"format":"csv"}"#)
        #expect(accepted.status == 202)
        await api.runWorker()
        let id = try accepted.string("id")
        for path in ["/exports", "/exports/\(id)", "/exports/\(id)/download"] {
            #expect(try await api.send("GET", path, query: [URLQueryItem(name: "access_token", value: "s3cr3t-t0ken")], headers: auth).status < 400)
        }
        #expect(!api.events.all.isEmpty)
        for event in api.events.all {
            #expect(!String(reflecting: event).contains("s3cr3t"), "\(event)")
        }
        let jobID = try #require(JobID(id))
        let stored = try #require(await api.jobs.job(jobID))
        #expect(!String(reflecting: stored).contains("s3cr3t"))
        for exchange in api.recorder.all {
            #expect(!exchange.text.contains("s3cr3t") && !exchange.response.headers.contains { $0.value.contains("s3cr3t") })
        }
        for body in [#"{"format":"s3cr3t-t0ken"}"#, #"{"s3cr3t-t0ken":1}"#, "{", #"{"columns":["s3cr3t-t0ken"]}"#] {
            exchanges.append(try await api.send("POST", "/exports", headers: auth, body: body))
        }
        exchanges.append(try await api.send("GET", "/exports/s3cr3t-t0ken", headers: auth))
        exchanges.append(try await api.send("GET", "/nowhere", headers: auth))
        exchanges.append(try await api.send("GET", "/exports", headers: auth, user: nil))
        for exchange in exchanges {
            #expect(exchange.status >= 400)
            let echoed = exchange.text.contains("Bearer s3cr3t") || exchange.response.headers.contains { $0.value.contains("s3cr3t") }
            #expect(!echoed)
        }
    }

    @Test("Path ids that are not job ids are 404, like unknown ones", arguments: [
        "..", "job%2F1", String(repeating: "a", count: 65), "job.1", "%00", "j%C3%B6b",
    ])
    func badPathID(_ raw: String) async throws {
        let api = APIHarness()
        #expect(try await api.send("GET", "/exports/\(raw)").status == 404)
        #expect(try await api.send("DELETE", "/exports/\(raw)").status == 404)
        #expect(try await api.send("GET", "/exports/\(raw)/download").status == 404)
    }

    @Test("GET /exports with a bad limit or cursor: 400 naming the parameter", arguments: [
        ("limit", "0"), ("limit", "101"), ("limit", "ten"), ("limit", "-1"), ("limit", "+5"), ("limit", " 5"), ("cursor", "garbage"), ("cursor", ""),
        ("cursor", "a\u{1}b"),
    ])
    func badQuery(_ item: (String, String)) async throws {
        let api = APIHarness()
        let exchange = try await api.send("GET", "/exports", query: [URLQueryItem(name: item.0, value: item.1)])
        #expect(exchange.status == 400)
        #expect(try exchange.invalidParams() == [item.0])
    }

    @Test("GET /exports with limit given without a number (?limit or ?limit=) or a parameter given twice: 400", arguments: [
        [URLQueryItem(name: "limit", value: nil)], [URLQueryItem(name: "limit", value: "")],
        [URLQueryItem(name: "limit", value: "5"), URLQueryItem(name: "limit", value: "5")],
        [URLQueryItem(name: "cursor", value: "a"), URLQueryItem(name: "cursor", value: "b")],
    ])
    func limitWithoutNumberOrRepeated(_ query: [URLQueryItem]) async throws {
        let api = APIHarness()
        let exchange = try await api.send("GET", "/exports", query: query)
        #expect(exchange.status == 400)
        #expect(try exchange.invalidParams() == [query[0].name])
    }

    @Test("Content-Length that differs between fields, or is not digits, is 400 and nothing is recorded", arguments: [
        [("Content-Length", "2"), ("Content-Length", "99999999")], [("Content-Length", "2, 99999999")],
        [("Content-Length", "+2")], [("Content-Length", "-1")], [("Content-Length", "")],
    ])
    func conflictingContentLength(_ fields: [(String, String)]) async throws {
        let api = APIHarness()
        let exchange = try await api.send("POST", "/exports", headers: fields.map { (name: $0.0, value: $0.1) }, body: "{}")
        #expect(exchange.status == 400)
        #expect(try exchange.object()["type"] as? String == "https://membership-export.dev/problems/invalid-header")
        #expect(try exchange.invalidParams() == ["Content-Length"])
        #expect(await api.jobs.count == 0)
        // The same value repeated frames the body one way only: accepted.
        let repeated = try await api.send("POST", "/exports", headers: [("Content-Length", "2"), ("Content-Length", "2")], body: "{}")
        #expect(repeated.status == 202)
    }
}
