@testable import ExportAWS
import ExportCore
import Foundation
import Testing

/// The shared files' INI dialect and how a profile is chosen from `~/.aws/credentials` and `~/.aws/config`.
@Suite("AWS shared credentials and config files")
struct AWSProfileFileTests {
    static func parse(_ text: String, _ kind: AWSProfileFile.Kind = .credentials) throws(ExportError) -> AWSProfileFile {
        try AWSProfileFile.parse(Array(text.utf8), kind: kind, path: "/x/file")
    }

    @Test("Sections, properties, comments, blank lines, CRLF and indented sub-properties")
    func parsesTheDialect() throws {
        let file = try Self.parse("""
            # a comment
            ; another
            [default]
            aws_access_key_id = AKDEFAULT\r
            AWS_Secret_Access_Key=secret=with=equals
            s3 =
              max_concurrent_requests = 10

            [other]   # trailing comment
            aws_access_key_id = AKOTHER
            aws_access_key_id = AKLAST
            """)
        #expect(file.profiles["default"]?["aws_access_key_id"] == "AKDEFAULT")
        #expect(file.profiles["default"]?["aws_secret_access_key"] == "secret=with=equals")
        #expect(file.profiles["default"]?["s3"] == "")
        #expect(file.profiles["default"]?["max_concurrent_requests"] == nil, "sub-properties stay out of the profile")
        #expect(file.profiles["other"]?["aws_access_key_id"] == "AKLAST", "the last duplicate wins")
    }

    @Test("In the config file, [profile x] and [default] are profiles; other sections are not")
    func configSections() throws {
        let file = try Self.parse("""
            [default]
            region = eu-west-1
            [profile dev]
            aws_access_key_id = AKDEV
            [dev-without-prefix]
            aws_access_key_id = IGNORED
            [sso-session corp]
            sso_region = us-east-1
            """, .config)
        #expect(Set(file.profiles.keys) == ["default", "dev"])
        #expect(file.profiles["dev"]?["aws_access_key_id"] == "AKDEV")
    }

    @Test(
        "Malformed files are a configuration error naming the file and line, never the line's text",
        arguments: [
            ("aws_access_key_id = AKSECRETLOOKING\n", 1, "must follow a [section]"),
            ("[default]\naws_secret_access_key SECRETVALUE\n", 2, "expected key = value"),
            ("[default\nx = 1\n", 1, "closing ]"),
            ("[default]\n= SECRETVALUE\n", 2, "needs a name"),
            ("  indented = first\n", 1, "continues no property"),
            ("[default] junk\n", 1, "only a comment"),
            ("[]\n", 1, "needs a name"),
            ("[profile two words]\n", 1, "cannot be empty or contain spaces"),
        ])
    func malformed(text: String, line: Int, reason: String) {
        let error = #expect(throws: ExportError.self) { try Self.parse(text, .config) }
        #expect(error?.code == .configuration)
        let message = error?.message ?? ""
        #expect(message.contains("/x/file line \(line):") && message.contains(reason), "\(message)")
        #expect(!message.contains("SECRET"), "\(message)")
    }

    @Test("The parser is total: arbitrary bytes give profiles or a configuration error")
    func total() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("[]=#; \t\r\nabc".utf8) + [0xFF, 0xC3, 0x00]
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0..<60, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            do {
                _ = try AWSProfileFile.parse(bytes, kind: .config, path: "fuzz")
            } catch {
                #expect(error.code == .configuration)
            }
        }
    }

    /// A home directory with the given files under `.aws/`.
    static func home(credentials: String? = nil, config: String? = nil) throws -> URL {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("aws-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        if let credentials { try Data(credentials.utf8).write(to: home.appendingPathComponent(".aws/credentials")) }
        if let config { try Data(config.utf8).write(to: home.appendingPathComponent(".aws/config")) }
        return home
    }

    @Test("The default profile from ~/.aws/credentials, with the session token")
    func defaultProfile() async throws {
        let home = try Self.home(credentials: "[default]\naws_access_key_id=AK\naws_secret_access_key=SK\naws_session_token=ST\n")
        defer { try? FileManager.default.removeItem(at: home) }
        let credentials = try await AWSProfileCredentialProvider(environment: ["HOME": home.path]).credentials()
        #expect(credentials == AWSCredentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "ST"))
    }

    @Test("AWS_PROFILE picks [profile x] in config; the credentials file wins for the same keys")
    func selectedProfile() async throws {
        let home = try Self.home(
            credentials: "[dev]\naws_secret_access_key = FROM-CREDENTIALS\n",
            config: "[default]\naws_access_key_id=AKDEFAULT\naws_secret_access_key=SKDEFAULT\n"
                + "[profile dev]\naws_access_key_id = AKDEV\naws_secret_access_key = FROM-CONFIG\n")
        defer { try? FileManager.default.removeItem(at: home) }
        let provider = AWSProfileCredentialProvider(environment: ["HOME": home.path, "AWS_PROFILE": "dev"])
        #expect(provider.sourceName == "shared files (profile dev)")
        let credentials = try await provider.credentials()
        #expect(credentials.accessKeyID == "AKDEV" && credentials.secretAccessKey == "FROM-CREDENTIALS")
        let explicit = try await AWSProfileCredentialProvider(profile: "default", environment: ["HOME": home.path, "AWS_PROFILE": "dev"]).credentials()
        #expect(explicit.accessKeyID == "AKDEFAULT")
    }

    @Test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE replace the paths (~/ is HOME)")
    func filesFromVariables() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        try Data("[profile ci]\naws_access_key_id=AKCI\naws_secret_access_key=SKCI\n".utf8).write(to: home.appendingPathComponent("cfg"))
        let provider = AWSProfileCredentialProvider(environment: [
            "HOME": home.path, "AWS_CONFIG_FILE": "~/cfg", "AWS_SHARED_CREDENTIALS_FILE": home.appendingPathComponent("none").path,
            "AWS_PROFILE": "ci",
        ])
        #expect(provider.configFilePath == home.path + "/cfg")
        #expect(try await provider.credentials().accessKeyID == "AKCI")
    }

    @Test("Missing files or default profile are notFound (the chain moves on); a named missing profile, half a key pair, a bad file or role_arn stop it")
    func failures() async throws {
        let empty = try Self.home()
        defer { try? FileManager.default.removeItem(at: empty) }
        let nothing = await #expect(throws: ExportError.self) { try await AWSProfileCredentialProvider(environment: ["HOME": empty.path]).credentials() }
        #expect(nothing?.code == .notFound)

        let home = try Self.home(
            credentials: "[half]\naws_access_key_id=AK\n[bad]\nnot a property\n",
            config: "[profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\n[profile region-only]\nregion = eu-west-1\n")
        defer { try? FileManager.default.removeItem(at: home) }
        func error(_ profile: String?) async -> ExportError? {
            await #expect(throws: ExportError.self) {
                try await AWSProfileCredentialProvider(profile: profile, environment: ["HOME": home.path]).credentials()
            }
        }
        // The credentials file is malformed: every profile read through it fails, naming file and line.
        let bad = await error("half")
        #expect(bad?.code == .configuration && bad?.message.contains(home.path + "/.aws/credentials line 4") == true, "\(String(describing: bad))")

        let fixed = try Self.home(
            credentials: "[half]\naws_access_key_id=AK\n",
            config: "[profile role]\nrole_arn = arn:aws:iam::1:role/r\n[profile region-only]\nregion = eu-west-1\n")
        defer { try? FileManager.default.removeItem(at: fixed) }
        func code(_ profile: String?, _ environment: [String: String] = [:]) async -> (ExportError.Code?, String) {
            let error = await #expect(throws: ExportError.self) {
                try await AWSProfileCredentialProvider(profile: profile, environment: environment.merging(["HOME": fixed.path]) { $1 }).credentials()
            }
            return (error?.code, error?.message ?? "")
        }
        #expect(await code(nil).0 == .notFound, "no [default]: not set up")
        #expect(await code(nil, ["AWS_PROFILE": "missing"]).0 == .configuration, "a profile asked for by name must exist")
        #expect(await code("half").0 == .configuration)
        let role = await code("role")
        #expect(role.0 == .configuration && role.1.contains("role_arn"), "\(role.1)")
        #expect(await code("region-only").0 == .notFound)
    }
}
