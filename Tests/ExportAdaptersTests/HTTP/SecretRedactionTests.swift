import ExportAdapters
import ExportCore
import Foundation
import Testing

/// Secrets stay out of what gets printed and logged.
@Suite("Secret redaction")
struct SecretRedactionTests {
    @Test("dump and Mirror of credentials show neither the secret nor the token")
    func credentialsMirror() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "very-secret-key", sessionToken: "session-token-value")
        var dumped = ""
        dump(credentials, to: &dumped)
        #expect(dumped.contains("AKID"))
        #expect(!dumped.contains("very-secret-key"))
        #expect(!dumped.contains("session-token-value"))
        let children = Mirror(reflecting: credentials).children.map { "\($0.label ?? ""): \($0.value)" }.joined(separator: ", ")
        #expect(!children.contains("very-secret-key") && !children.contains("session-token-value"))
        #expect(!String(reflecting: credentials).contains("very-secret-key"))
    }

    @Test("A transport failure's description does not carry the URL's query")
    func urlErrorWithoutQuery() async throws {
        // Port 9 (discard) on loopback: nothing listens, the connection is refused.
        let url = try #require(URL(string: "http://127.0.0.1:9/bucket/key?X-Amz-Signature=topsecretsignature&X-Amz-Security-Token=tok"))
        let error = await #expect(throws: ExportError.self) {
            _ = try await URLSessionTransport().send(TransportRequest(method: "GET", url: url, timeout: .seconds(5)))
        }
        let text = String(describing: try #require(error))
        #expect(text.contains("127.0.0.1:9/bucket/key"))
        #expect(!text.contains("topsecretsignature"), "\(text)")
        #expect(!text.contains("X-Amz-Security-Token"))
    }
}
