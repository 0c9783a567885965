@testable import ExportAWS
import ExportAdapters
import ExportCore
import Foundation
import Testing

// The credentials example printed in Docs/AWS.md, compiled and run here exactly as printed there.

// credentials-snippet:begin
/// Signs with a named profile when one is given, else with the SDKs' default chain; either way cached
/// and refreshed 10 minutes before expiry.
func awsConfiguration(profile: String?, region: String, environment: [String: String]) -> AWSConfiguration {
    let source: any AWSCredentialProvider = profile.map { AWSProfileCredentialProvider(profile: $0, environment: environment) }
        ?? AWSCredentialChain.default(environment: environment, region: region)
    let cached = AWSCachingCredentialProvider(wrapping: source, refreshAhead: .seconds(600))
    return AWSConfiguration(credentialProvider: cached, region: region)
}
// credentials-snippet:end

@Suite("Docs/AWS.md credentials example")
struct AWSCredentialsDocsExampleTests {
    @Test("The guide prints the compiled example verbatim")
    func verbatim() throws {
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let begin = try #require(source.range(of: "// credentials-snippet:begin\n"))
        let end = try #require(source.range(of: "// credentials-snippet:end"))
        let guide = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Docs/AWS.md")
        #expect(try String(contentsOf: guide, encoding: .utf8).contains(String(source[begin.upperBound..<end.lowerBound])))
    }

    @Test("The example reads the named profile, and the chain without one")
    func runs() async throws {
        let home = try AWSProfileFileTests.home(
            credentials: "[default]\naws_access_key_id=AKDEFAULT\naws_secret_access_key=S\n[ci]\naws_access_key_id=AKCI\naws_secret_access_key=S\n")
        defer { try? FileManager.default.removeItem(at: home) }
        let environment = ["HOME": home.path, "AWS_EC2_METADATA_DISABLED": "true"]
        let named = awsConfiguration(profile: "ci", region: "eu-west-1", environment: environment)
        #expect(try await named.credentialProvider.credentials().accessKeyID == "AKCI")
        let chained = awsConfiguration(profile: nil, region: "eu-west-1", environment: environment)
        #expect(try await chained.credentialProvider.credentials().accessKeyID == "AKDEFAULT")
        #expect(chained.credentialProvider.sourceName == "chain (shared files (profile default))")
    }
}
