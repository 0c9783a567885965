@testable import ExportAWS
import ExportCore
import Foundation
import Testing

/// The container endpoint and IMDSv2 against the local stub (`Fixtures/credentials_stub.py`).
@Suite("AWS container and instance metadata credentials")
struct AWSMetadataCredentialTests {
    @Test("The container endpoint: FULL_URI on loopback, the token from the variable or the file, the expiry read")
    func container() async throws {
        let stub = try await CredentialStub.start()
        defer { stub.stop() }
        try await stub.configure(["container_token": "Bearer container-secret", "expiration": "2030-01-02T03:04:05Z"])
        let unauthorized = AWSContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": stub.containerURI])
        let refused = await #expect(throws: ExportError.self) { try await unauthorized.credentials() }
        #expect(refused?.code == .unauthorized, "\(String(describing: refused))")

        let provider = AWSContainerCredentialProvider(environment: [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": stub.containerURI, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer container-secret",
        ])
        let credentials = try await provider.credentials()
        #expect(credentials.accessKeyID == "ASIASTUBKEY" && credentials.secretAccessKey == "stub-secret-key")
        #expect(credentials.sessionToken == "stub-session-token")
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_893_553_445))
        var dumped = ""
        dump(provider, to: &dumped)
        #expect(!dumped.contains("container-secret") && !String(describing: provider).contains("container-secret"), "\(dumped)")

        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("container-token-\(UUID().uuidString)")
        try Data("Bearer container-secret\n".utf8).write(to: tokenFile)
        defer { try? FileManager.default.removeItem(at: tokenFile) }
        let fromFile = AWSContainerCredentialProvider(environment: [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": stub.containerURI, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile.path,
        ])
        #expect(try await fromFile.credentials().accessKeyID == "ASIASTUBKEY", "the file wins over the variable")

        let relative = AWSContainerCredentialProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/container/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer container-secret"],
            relativeBase: stub.baseURL)
        #expect(try await relative.credentials().accessKeyID == "ASIASTUBKEY")
        #expect(try await stub.hits()["GET /container/creds"] == 4)
    }

    @Test(
        "FULL_URI over plain http only to loopback or the ECS and EKS addresses, as the SDKs",
        arguments: [
            ("http://127.0.0.1:8080/creds", true), ("http://127.1.2.3/creds", true), ("http://localhost/creds", true),
            ("http://[::1]:80/creds", true), ("http://169.254.170.2/v2/credentials", true), ("http://169.254.170.23/v1/credentials", true),
            ("https://creds.example.com/x", true), ("http://creds.example.com/x", false), ("http://10.0.0.1/creds", false),
            ("http://127.0.0.1.example.com/creds", false), ("ftp://127.0.0.1/creds", false),
        ])
    func fullURIHosts(uri: String, allowed: Bool) {
        let provider = AWSContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri])
        do {
            _ = try provider.endpoint()
            #expect(allowed, "\(uri) must be refused")
        } catch {
            #expect(!allowed, "\(uri): \(error)")
            #expect(error.code == .configuration)
        }
    }

    @Test("No container variable is notFound")
    func containerNotSetUp() async {
        let error = await #expect(throws: ExportError.self) { try await AWSContainerCredentialProvider(environment: [:]).credentials() }
        #expect(error?.code == .notFound)
    }

    @Test("IMDSv2: a session token first, then the role and its credentials with the token (the stub answers 401 without it)")
    func instanceMetadata() async throws {
        let stub = try await CredentialStub.start()
        defer { stub.stop() }
        try await stub.configure(["expiration": "2030-01-02T03:04:05Z", "role": "worker-role"])
        let provider = AWSInstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.baseURL.absoluteString])
        let credentials = try await provider.credentials()
        #expect(credentials.accessKeyID == "ASIASTUBKEY" && credentials.sessionToken == "stub-session-token")
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_893_553_445))
        let hits = try await stub.hits()
        #expect(hits["PUT /latest/api/token"] == 1)
        #expect(hits["GET /latest/meta-data/iam/security-credentials/"] == 1)
        #expect(hits["GET /latest/meta-data/iam/security-credentials/worker-role"] == 1)
    }

    @Test("IMDS: disabled by AWS_EC2_METADATA_DISABLED, notFound when nothing answers, an error when the role's document fails")
    func instanceMetadataFailures() async throws {
        let disabled = await #expect(throws: ExportError.self) {
            try await AWSInstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_DISABLED": "true"]).credentials()
        }
        #expect(disabled?.code == .notFound && disabled?.message.contains("AWS_EC2_METADATA_DISABLED") == true)
        // Port 9 on loopback: connection refused, as off EC2.
        let absent = await #expect(throws: ExportError.self) {
            try await AWSInstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"]).credentials()
        }
        #expect(absent?.code == .notFound, "\(String(describing: absent))")

        let stub = try await CredentialStub.start()
        defer { stub.stop() }
        try await stub.configure(["fail": true])
        let failing = await #expect(throws: ExportError.self) {
            try await AWSInstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.baseURL.absoluteString]).credentials()
        }
        #expect(failing?.code != .notFound && failing?.isRetryable == true, "a 500 once IMDS answered is a real, retryable failure")
        #expect(!String(describing: failing).contains("stub-secret-key"))
    }
}
