@testable import ExportAWS
import ExportAdapters
import ExportCore
import Foundation
import Synchronization
import Testing

/// Refresh ahead of expiry, one refresh for many callers, and valid old credentials kept when a
/// refresh fails: the container provider against the stub, with a manual clock.
@Suite("AWS credential cache")
struct AWSCachingCredentialProviderTests {
    /// 2030-01-01T00:00:00Z.
    static let start = Date(timeIntervalSince1970: 1_893_456_000)

    static func cache(_ stub: CredentialStub, clock: ManualClock) -> AWSCachingCredentialProvider {
        AWSCachingCredentialProvider(
            wrapping: AWSContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": stub.containerURI]),
            clock: clock)
    }

    static func hits(_ stub: CredentialStub) async throws -> Int { try await stub.hits()["GET /container/creds"] ?? 0 }

    @Test("Temporary credentials are kept until 5 minutes before expiry, then refreshed")
    func refreshAhead() async throws {
        let stub = try await CredentialStub.start()
        defer { stub.stop() }
        let clock = ManualClock(now: Self.start)
        try await stub.configure(["access_key": "ASIAFIRST", "expiration": "2030-01-01T01:00:00Z"])
        let cache = Self.cache(stub, clock: clock)
        #expect(try await cache.credentials().accessKeyID == "ASIAFIRST")
        try await stub.configure(["access_key": "ASIASECOND", "expiration": "2030-01-01T02:00:00Z"])
        clock.advance(by: .seconds(3600 - 301))
        #expect(try await cache.credentials().accessKeyID == "ASIAFIRST", "301 s before expiry: still cached")
        #expect(try await Self.hits(stub) == 1)
        clock.advance(by: .seconds(2))
        #expect(try await cache.credentials().accessKeyID == "ASIASECOND", "299 s before expiry: refreshed")
        #expect(try await Self.hits(stub) == 2)
        #expect(try await cache.credentials().accessKeyID == "ASIASECOND")
        #expect(try await Self.hits(stub) == 2)
    }

    @Test("50 concurrent callers share one refresh, at first use and ahead of expiry")
    func singleFlight() async throws {
        let stub = try await CredentialStub.start()
        defer { stub.stop() }
        let clock = ManualClock(now: Self.start)
        try await stub.configure(["access_key": "ASIAFIRST", "expiration": "2030-01-01T01:00:00Z", "delay": .number(0.3)])
        let cache = Self.cache(stub, clock: clock)
        func burst() async throws -> Set<String> {
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 { group.addTask { try await cache.credentials().accessKeyID } }
                return try await group.reduce(into: []) { $0.insert($1) }
            }
        }
        #expect(try await burst() == ["ASIAFIRST"])
        #expect(try await Self.hits(stub) == 1)
        try await stub.configure(["access_key": "ASIASECOND", "expiration": "2030-01-01T02:00:00Z"])
        clock.advance(by: .seconds(3600 - 120))
        #expect(try await burst() == ["ASIASECOND"])
        #expect(try await Self.hits(stub) == 2)
    }

    @Test("A failed refresh keeps valid old credentials, retries after the interval, and fails once they are nearly expired")
    func fallback() async throws {
        let stub = try await CredentialStub.start()
        defer { stub.stop() }
        let clock = ManualClock(now: Self.start)
        try await stub.configure(["access_key": "ASIAOLD", "expiration": "2030-01-01T01:00:00Z"])
        let cache = Self.cache(stub, clock: clock)
        #expect(try await cache.credentials().accessKeyID == "ASIAOLD")
        try await stub.configure(["fail": true])
        clock.advance(by: .seconds(3600 - 200))
        #expect(try await cache.credentials().accessKeyID == "ASIAOLD", "the refresh failed; the old ones are valid for 200 s")
        #expect(try await Self.hits(stub) == 2)
        #expect(try await cache.credentials().accessKeyID == "ASIAOLD")
        #expect(try await Self.hits(stub) == 2, "no second refresh within the retry interval")
        clock.advance(by: .seconds(11))
        #expect(try await cache.credentials().accessKeyID == "ASIAOLD")
        #expect(try await Self.hits(stub) == 3, "tried again after the interval")
        clock.advance(by: .seconds(200 - 11 - 30))
        let error = await #expect(throws: ExportError.self) { try await cache.credentials() }
        #expect(error?.isRetryable == true, "30 s left is under the minimum validity: the refresh's error")
        try await stub.configure(["fail": false, "access_key": "ASIANEW", "expiration": "2030-01-01T02:00:00Z"])
        #expect(try await cache.credentials().accessKeyID == "ASIANEW", "a failure is not remembered as success")
    }

    @Test("Credentials without an expiry are fetched once")
    func longTerm() async throws {
        let counting = CountingProvider()
        let cache = AWSCachingCredentialProvider(wrapping: counting, clock: ManualClock(now: Self.start))
        for _ in 0..<5 { _ = try await cache.credentials() }
        #expect(counting.calls == 1)
    }

    @Test("The AWS clients ask the provider for each request, so refreshed credentials sign the next one")
    func perRequest() async throws {
        let counting = CountingProvider()
        let transport = SigningRecordingTransport()
        let client = AWSServiceClient(
            configuration: AWSConfiguration(credentialProvider: counting, region: "eu-west-1"),
            service: "sqs", hostPrefix: "sqs", transport: transport, clock: ManualClock(now: Self.start))
        _ = try await client.send(method: "POST", path: "/")
        _ = try await client.send(method: "POST", path: "/")
        let authorizations = transport.requests.map { $0.header("Authorization") ?? "" }
        #expect(authorizations.count == 2)
        #expect(authorizations[0].contains("Credential=AK1/") && authorizations[1].contains("Credential=AK2/"), "\(authorizations)")
    }
}

/// Returns `AK<n>` on its n-th call, without an expiry.
final class CountingProvider: AWSCredentialProvider {
    private let count = Mutex(0)
    var calls: Int { count.withLock { $0 } }

    func credentials() async throws -> AWSCredentials {
        let number = count.withLock { count in
            count += 1
            return count
        }
        return AWSCredentials(accessKeyID: "AK\(number)", secretAccessKey: "SK")
    }
}

/// Answers 200 to everything and keeps the requests.
final class SigningRecordingTransport: HTTPTransport {
    private let sent = Mutex<[TransportRequest]>([])
    var requests: [TransportRequest] { sent.withLock { $0 } }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        sent.withLock { $0.append(request) }
        return TransportResponse(status: 200)
    }
}
