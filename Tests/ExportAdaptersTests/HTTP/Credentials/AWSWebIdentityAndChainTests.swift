@testable import ExportAWS
import ExportAdapters
import ExportCore
import Foundation
import Synchronization
import Testing

/// STS `AssumeRoleWithWebIdentity` against moto, and the default chain's order and report.
@Suite("AWS web identity and the default chain")
struct AWSWebIdentityAndChainTests {
    static func tokenFile() throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("web-identity-\(UUID().uuidString)")
        // moto does not check the token's signature, only that one is sent.
        try Data("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl\n".utf8).write(to: file)
        return file
    }

    @Test("Web identity exchanges the token file's token for the role's temporary credentials (unsigned, against moto's STS)",
          .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
    func webIdentity() async throws {
        let peer = try await MotoServer.peer()
        let token = try Self.tokenFile()
        defer { try? FileManager.default.removeItem(at: token) }
        let before = Date()
        let provider = AWSWebIdentityCredentialProvider(
            environment: [
                "AWS_WEB_IDENTITY_TOKEN_FILE": token.path, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/exporter",
                "AWS_ROLE_SESSION_NAME": "export-test",
            ],
            stsEndpoint: peer.baseURL)
        let credentials = try await provider.credentials()
        #expect(credentials.accessKeyID.hasPrefix("ASIA"), "\(credentials)")
        #expect(!credentials.secretAccessKey.isEmpty && credentials.sessionToken?.isEmpty == false)
        let expiration = try #require(credentials.expiration)
        #expect(expiration > before && expiration < before.addingTimeInterval(13 * 3600), "\(expiration)")
    }

    @Test("The default chain picks web identity when its variables are set, with AWS_ENDPOINT_URL as the STS endpoint, and says so",
          .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
    func chainUsesWebIdentity() async throws {
        let peer = try await MotoServer.peer()
        let token = try Self.tokenFile()
        defer { try? FileManager.default.removeItem(at: token) }
        let home = try AWSProfileFileTests.home(credentials: "[default]\naws_access_key_id=AKFILE\naws_secret_access_key=SKFILE\n")
        defer { try? FileManager.default.removeItem(at: home) }
        let configuration = try AWSConfiguration.fromEnvironment([
            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": peer.baseURL.absoluteString, "HOME": home.path,
            "AWS_WEB_IDENTITY_TOKEN_FILE": token.path, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/exporter",
        ])
        let credentials = try await configuration.credentialProvider.credentials()
        #expect(credentials.accessKeyID.hasPrefix("ASIA"), "web identity comes before the shared files")
        #expect(configuration.credentialProvider.sourceName == "chain (web identity)")
        // And the temporary credentials sign a real call.
        _ = try await SQSQueue.createQueues(named: MotoServer.uniqueName("webid"), aws: configuration)
    }

    @Test("STS's refusal is a typed error that names the role and not the token")
    func webIdentityRefused() async throws {
        let token = try Self.tokenFile()
        defer { try? FileManager.default.removeItem(at: token) }
        let transport = StubTransport(status: 400, body: """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>\
            <Code>InvalidIdentityToken</Code><Message>Couldn't retrieve verification key</Message></Error></ErrorResponse>
            """)
        let provider = AWSWebIdentityCredentialProvider(
            environment: ["AWS_WEB_IDENTITY_TOKEN_FILE": token.path, "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"],
            region: "eu-west-1", transport: transport)
        #expect(provider.stsEndpoint.absoluteString == "https://sts.eu-west-1.amazonaws.com")
        let error = await #expect(throws: ExportError.self) { try await provider.credentials() }
        let text = String(describing: error)
        #expect(text.contains("InvalidIdentityToken") && text.contains("arn:aws:iam::1:role/r"), "\(text)")
        #expect(!text.contains("eyJhbGci"), "\(text)")
        let request = try #require(transport.last)
        #expect(request.header("Authorization") == nil, "AssumeRoleWithWebIdentity is unsigned")
        #expect(String(decoding: request.body, as: UTF8.self).contains("Action=AssumeRoleWithWebIdentity"))
    }

    @Test("Without any source the chain's error lists every one it tried, in the SDKs' order")
    func nothingConfigured() async throws {
        let home = try AWSProfileFileTests.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let chain = AWSCredentialChain.default(environment: ["HOME": home.path, "AWS_EC2_METADATA_DISABLED": "true"])
        let error = await #expect(throws: ExportError.self) { try await chain.credentials() }
        #expect(error?.code == .configuration && error?.isRetryable == false)
        let message = error?.message ?? ""
        let order = ["environment:", "web identity:", "shared files (profile default):", "container:", "instance metadata (IMDSv2):"]
            .map { message.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "\(message)")
        #expect(chain.source == nil)
    }

    @Test("The environment comes first; a source set up but failing stops the chain instead of falling through")
    func order() async throws {
        let home = try AWSProfileFileTests.home(credentials: "[default]\naws_access_key_id=AKFILE\naws_secret_access_key=SKFILE\n")
        defer { try? FileManager.default.removeItem(at: home) }
        let both = AWSCredentialChain.default(environment: [
            "HOME": home.path, "AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "SKENV", "AWS_EC2_METADATA_DISABLED": "true",
        ])
        #expect(try await both.credentials().accessKeyID == "AKENV")
        #expect(both.source == "environment")
        let files = AWSCredentialChain.default(environment: ["HOME": home.path, "AWS_EC2_METADATA_DISABLED": "true"])
        #expect(try await files.credentials().accessKeyID == "AKFILE")
        #expect(files.source == "shared files (profile default)")
        let broken = AWSCredentialChain.default(environment: [
            "HOME": home.path, "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
        ])
        let error = await #expect(throws: ExportError.self) { try await broken.credentials() }
        #expect(error?.code == .configuration && error?.message.contains("web identity") == true, "\(String(describing: error))")
    }

    @Test("Secrets stay out of the chain's errors and the configuration's dump")
    func noSecrets() async throws {
        let chain = AWSCredentialChain.default(environment: [
            "AWS_SECRET_ACCESS_KEY": "very-secret-key", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-secret",
            "AWS_EC2_METADATA_DISABLED": "true",
        ])
        let error = await #expect(throws: ExportError.self) { try await chain.credentials() }
        #expect(!String(describing: error).contains("very-secret-key"))
        var dumped = ""
        dump(AWSConfiguration(credentialProvider: AWSCachingCredentialProvider(wrapping: chain), region: "eu-west-1"), to: &dumped)
        #expect(!dumped.contains("very-secret-key") && !dumped.contains("container-secret"), "\(dumped)")
    }
}

/// Answers every request with one canned response and keeps the last request.
final class StubTransport: HTTPTransport {
    let status: Int
    let body: [UInt8]
    private let lastRequest = Mutex<TransportRequest?>(nil)
    var last: TransportRequest? { lastRequest.withLock { $0 } }

    init(status: Int, body: String) {
        self.status = status
        self.body = Array(body.utf8)
    }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        lastRequest.withLock { $0 = request }
        return TransportResponse(status: status, body: body)
    }
}
