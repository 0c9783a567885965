import Dispatch
import ExportCore
import ExportFileSystem
import ExportHTTPAPI
import ExportInMemory
import Foundation
import Synchronization

// The HTTP API handler on the in-memory job store and queue, with a file-system blob store as the
// signed-download resolver (the real link format and verifier). One export is built and its link
// minted once; every input is then a script of requests, with placeholders for the parts of that
// link, run against a fresh handler whose job store holds only that export.
//
// Input: requests separated by NUL bytes. A request is
//
//     METHOD TARGET [PRINCIPAL]      TARGET relative to /api/v1 (`~` first: taken as the whole path);
//     Name: value                    PRINCIPAL `-` for none, absent for u1
//     (empty line)
//     body
//
// or a line `+SECONDS`, which moves the clock on. In the request line, header fields and body,
// `{link}` `{token}` `{query}` `{expires}` `{filename}` `{sig}` `{SIG}` (upper case) and `{job}`
// stand for the minted link's parts and the export's id.

let base = "/api/v1"
let t0 = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

/// A clock every input starts again at `t0`, shared with the file blob store (whose verifier reads it).
final class ResettableClock: ExportClock {
    private let current = Mutex(t0)
    func now() -> Date { current.withLock { $0 } }
    func set(_ date: Date) { current.withLock { $0 = date } }
    /// Sleeps in real time (only the worker's heartbeat sleeps, and it is cancelled when the export ends).
    func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// Job ids `job-0001`, … per handler, so an input replays the same way.
final class SequentialIDs: Sendable {
    private let counter = Mutex(0)
    func next() -> JobID {
        let value = counter.withLock { count -> Int in
            count += 1
            return count
        }
        return JobID("job-\(value)")!
    }
}

/// The result of async work, handed from its task to the waiting fuzzer thread (the semaphore orders
/// the write before the read).
final class ResultBox<T>: @unchecked Sendable { var result: Result<T, any Error>? }

/// Runs async work to completion from the fuzzer's synchronous callback.
func runBlocking<T>(_ work: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return box.result!
}

/// What every input starts from: the stored file, the succeeded job and its minted link.
struct Fixture: @unchecked Sendable {
    let directory: URL
    let clock: ResettableClock
    let files: FileBlobStore
    let job: ExportJob
    let fileBytes: [UInt8]
    /// The link's path below `base` (`/downloads/<token>`) and its query, as a host hands them over.
    let linkPath: String
    let linkQuery: [URLQueryItem]
    let linkExpiresAt: Date
    let placeholders: [(String, String)]

    static let memberships: [Membership] = [
        Membership(
            membershipID: "m1", userID: "u1", organizationID: "o1", organizationName: "Acme, Inc.", plan: "pro", role: "admin",
            status: "active", startedAt: t0, attributes: [:]),
        Membership(
            membershipID: "m9", userID: "u2", organizationID: "o9", organizationName: "Other", plan: "pro", role: "admin",
            status: "active", startedAt: t0),
    ]

    static func make() -> Fixture {
        // One directory per process, removed at exit; a crashed run cannot remove its own, so the
        // next run removes those whose process is gone.
        let temporary = NSTemporaryDirectory()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] where name.hasPrefix("fuzz-http-api-") {
            if let pid = Int32(name.dropFirst("fuzz-http-api-".count)), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: temporary + "/" + name)
            }
        }
        let directory = URL(fileURLWithPath: temporary + "/fuzz-http-api-\(getpid())", isDirectory: true)
        try? FileManager.default.removeItem(at: directory)
        guard (try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)) != nil else {
            fatalError("cannot create \(directory.path)")
        }
        let clock = ResettableClock()
        let files = try! FileBlobStore(
            configuration: .init(
                directory: directory, linkSecret: Array("fuzz-secret-0123456789abcdef".utf8),
                linkBaseURL: URL(string: "http://files.test\(base)/downloads")!),
            clock: clock)
        let result = runBlocking { () async throws -> Fixture in
            let (handler, jobs, queue) = try makeHandler(files: files, clock: clock)
            let created = await handler.handle(APIRequest(method: "POST", path: base + "/exports", principal: "u1"))
            guard created.status == 202, let location = created.header("Location"), let id = JobID(String(location.split(separator: "/").last ?? "")) else {
                fatalError("the export was not created: \(created.status)")
            }
            let worker = try ExportWorker(
                ports: ExportPorts(jobStore: jobs, queue: queue, blobStore: files, notifier: InMemoryNotifier(), clock: clock),
                source: InMemoryMembershipSource(memberships),
                configuration: .init(concurrency: 1, receiveWaitTime: .zero, randomSeed: 1))
            _ = try await worker.processAvailable()
            guard let job = try await jobs.get(id), job.state == .succeeded, let key = job.result?.blobKey else {
                fatalError("the export did not succeed")
            }
            let fileBytes = try await files.read(key).reduce(into: []) { $0 += $1 }
            let redirect = await handler.handle(APIRequest(method: "GET", path: base + "/exports/\(id)/download", principal: "u1"))
            guard redirect.status == 302, let link = redirect.header("Location").flatMap({ URLComponents(string: $0) }),
                link.path.hasPrefix(base + "/downloads/")
            else { fatalError("no link was minted: \(redirect.status)") }
            let query = link.queryItems ?? []
            func value(_ name: String) -> String { query.first { $0.name == name }?.value ?? "" }
            let signature = value("signature")
            let token = String(link.path.dropFirst((base + "/downloads/").count))
            return Fixture(
                directory: directory, clock: clock, files: files, job: job, fileBytes: fileBytes,
                linkPath: String(link.path.dropFirst(base.count)), linkQuery: query,
                linkExpiresAt: Date(timeIntervalSince1970: Double(value("expires"))!),
                placeholders: [
                    ("{link}", String(link.path.dropFirst(base.count))), ("{token}", token),
                    ("{query}", link.percentEncodedQuery ?? ""), ("{expires}", value("expires")), ("{filename}", value("filename")),
                    ("{sig}", signature), ("{SIG}", signature.uppercased()), ("{job}", id.rawValue),
                ])
        }
        switch result {
        case .success(let fixture): return fixture
        case .failure(let error): fatalError("set-up failed: \(error)")
        }
    }
}

func makeHandler(files: FileBlobStore, clock: ResettableClock) throws -> (ExportAPIHandler, InMemoryJobStore, InMemoryQueue) {
    let jobs = InMemoryJobStore()
    let queue = InMemoryQueue(clock: clock)
    let ids = SequentialIDs()
    let service = try ExportService(
        ports: ExportPorts(jobStore: jobs, queue: queue, blobStore: files, notifier: InMemoryNotifier(), clock: clock),
        configuration: .init(makeJobID: { ids.next() }))
    let handler = try ExportAPIHandler(
        service: service, recipient: { try EmailAddress(validating: "\($0.rawValue.prefix(40))@example.com") },
        signedDownloads: SignedDownloads(files), configuration: .init(basePath: base, maxBodyBytes: 1024))
    return (handler, jobs, queue)
}

let fixture = Fixture.make()
let directoryToRemove = fixture.directory.path
let registeredCleanup: Void = {
    atexit { _ = try? FileManager.default.removeItem(atPath: directoryToRemove) }
}()

/// One request parsed from the script.
struct ScriptedRequest {
    var method: String
    var target: String
    var principal: UserID?
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// The request as a host's framework hands it over: path not percent-decoded, query items decoded.
    var apiRequest: APIRequest {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts[0].hasPrefix("~") ? String(parts[0].dropFirst()) : base + parts[0]
        var query: [URLQueryItem] = []
        if parts.count > 1 {
            for item in parts[1].split(separator: "&", omittingEmptySubsequences: false) {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func decoded(_ text: Substring) -> String { text.removingPercentEncoding ?? String(text) }
                query.append(URLQueryItem(name: decoded(pair[0]), value: pair.count > 1 ? decoded(pair[1]) : nil))
            }
        }
        return APIRequest(method: method, path: path, query: query, headers: headers, body: body, principal: principal)
    }
}

func expand(_ text: String) -> String {
    guard text.contains("{") else { return text }
    var text = text
    for (name, value) in fixture.placeholders { text = text.replacingOccurrences(of: name, with: value) }
    return text
}

/// Whether a request names exactly the minted link: its path, and its three query items each once
/// with the minted values. Query order is not part of the link (frameworks hand queries over as maps).
func isMintedLink(_ request: APIRequest) -> Bool {
    guard request.path == base + fixture.linkPath, request.query.count == fixture.linkQuery.count else { return false }
    func sorted(_ items: [URLQueryItem]) -> [String] { items.map { "\($0.name)=\($0.value ?? "<nil>")" }.sorted() }
    return sorted(request.query) == sorted(fixture.linkQuery)
}

/// Sends one request and checks what holds for every response; returns the response and its body.
func exchange(_ handler: ExportAPIHandler, _ request: APIRequest) async -> (APIResponse, [UInt8]) {
    let response = await handler.handle(request)
    let body: [UInt8]
    do {
        body = try await response.body.collect()
    } catch {
        fatalError("the body of a \(response.status) to \(request.method) \(request.path.debugDescription) failed: \(error)")
    }
    guard (200...499).contains(response.status) else {
        fatalError("\(response.status) to \(request.method) \(request.path.debugDescription) query \(request.query)")
    }
    if let length = response.header("Content-Length"), request.method != "HEAD", length != String(body.count) {
        fatalError("Content-Length \(length) with a body of \(body.count) bytes")
    }
    let isDownload = request.path.hasPrefix(base + "/downloads") || response.header("Content-Disposition") != nil
    if response.status == 200, isDownload {
        guard isMintedLink(request) else {
            fatalError("a download for a link that was not minted: \(request.path.debugDescription) \(request.query)")
        }
        guard fixture.clock.now() < fixture.linkExpiresAt else { fatalError("a download after the link expired") }
        guard request.method == "HEAD" || body == fixture.fileBytes else { fatalError("the download is not the file") }
    }
    if response.status >= 400, request.method != "HEAD" {
        guard response.header("Content-Type") == "application/problem+json",
            let problem = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
            problem["status"] as? Int == response.status
        else { fatalError("a \(response.status) without its problem document: \(String(decoding: body, as: UTF8.self))") }
    }
    return (response, body)
}

func parse(_ chunk: ArraySlice<UInt8>) -> (advance: Int?, request: ScriptedRequest?) {
    let text = String(decoding: chunk, as: UTF8.self)
    if text.hasPrefix("+") {
        return (Int(text.dropFirst().prefix(8).filter(\.isNumber)) ?? 0, nil)
    }
    let sections = text.split(separator: "\n\n", maxSplits: 1, omittingEmptySubsequences: false)
    var lines = sections[0].split(separator: "\n", omittingEmptySubsequences: false)
    let requestLine = expand(String(lines.removeFirst())).split(separator: " ", omittingEmptySubsequences: false)
    let principal: UserID? = requestLine.count > 2 ? (requestLine[2] == "-" ? nil : UserID(String(requestLine[2]))) : "u1"
    let headers = lines.map { line -> (name: String, value: String) in
        let field = expand(String(line)).split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(field[0]), field.count > 1 ? String(field[1].drop { $0 == " " }) : "")
    }
    let body = sections.count > 1 ? Array(expand(String(sections[1])).utf8) : []
    return (nil, ScriptedRequest(
        method: String(requestLine[0]), target: requestLine.count > 1 ? String(requestLine[1]) : "", principal: principal,
        headers: headers, body: body))
}

/// Invariants on every request: a response (the handler returns and its body ends), no 5xx (no port
/// fails here, so every input is bad input at worst), a problem document with every error, a 200
/// download only for the exact minted link before it expires and only with the file's bytes, and
/// `HEAD` answered as `GET` is (same status and header fields) with an empty body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPAPI(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = registeredCleanup
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let script = input.split(separator: 0, omittingEmptySubsequences: true).prefix(16).map(parse)
    fixture.clock.set(t0)
    let outcome = runBlocking { () async throws -> Void in
        let (handler, jobs, _) = try makeHandler(files: fixture.files, clock: fixture.clock)
        _ = try await jobs.create(fixture.job)
        for step in script {
            if let seconds = step.advance {
                fixture.clock.set(fixture.clock.now().addingTimeInterval(Double(seconds)))
                continue
            }
            guard let request = step.request?.apiRequest else { continue }
            guard request.method == "GET" || request.method == "HEAD" else {
                _ = await exchange(handler, request)
                continue
            }
            var head = request
            head.method = "HEAD"
            var get = request
            get.method = "GET"
            let (headResponse, headBody) = await exchange(handler, head)
            let (getResponse, _) = await exchange(handler, get)
            guard headBody.isEmpty else { fatalError("HEAD \(request.path.debugDescription) has a body of \(headBody.count) bytes") }
            guard headResponse.status == getResponse.status,
                headResponse.headers.map({ "\($0.name): \($0.value)" }) == getResponse.headers.map({ "\($0.name): \($0.value)" })
            else {
                fatalError("HEAD \(headResponse.status) \(headResponse.headers) differs from GET \(getResponse.status) \(getResponse.headers)")
            }
        }
    }
    if case .failure(let error) = outcome { fatalError("the script could not start: \(error)") }
    return 0
}
