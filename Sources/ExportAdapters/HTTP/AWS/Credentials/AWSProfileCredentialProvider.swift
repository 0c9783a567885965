import ExportCore
import Foundation

/// Keys from the shared files: `~/.aws/credentials` and `~/.aws/config`, as the AWS CLI writes them.
///
/// The files are `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` when set (a leading `~/` is
/// the home directory), and the profile is the one given, else `AWS_PROFILE`, else `default`. In the
/// config file a profile's section is `[profile name]` (or `[default]`); in the credentials file it
/// is `[name]`. When both files have the profile, the credentials file's values win. Both files are
/// read at each call, so rotated keys are picked up.
///
/// Only static keys (`aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`) are read. A
/// profile that gets its credentials another way (`role_arn`, `credential_process`, `sso_session`,
/// `web_identity_token_file`) is an error rather than silently passed over.
public struct AWSProfileCredentialProvider: AWSCredentialProvider {
    /// The profile read, when given explicitly.
    public var profile: String?
    private let environment: [String: String]

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - profile: The profile; `AWS_PROFILE` or `default` when `nil`.
    ///   - environment: Where `AWS_PROFILE`, the file variables and `HOME` are read; the process's by default.
    public init(profile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.profile = profile
        self.environment = environment.only(["AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "HOME"])
    }

    /// `shared files (profile <name>)`.
    public var sourceName: String { "shared files (profile \(selectedProfile))" }

    /// The profile that is read: the one given, `AWS_PROFILE`, or `default`.
    public var selectedProfile: String { profile ?? nonEmpty("AWS_PROFILE") ?? "default" }

    /// The shared credentials file's path.
    public var credentialsFilePath: String {
        expand(nonEmpty("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials")
    }

    /// The shared config file's path.
    public var configFilePath: String { expand(nonEmpty("AWS_CONFIG_FILE") ?? "~/.aws/config") }

    /// Reads the files and returns the profile's keys.
    ///
    /// - Returns: The credentials.
    /// - Throws: `ExportError.Code.notFound` when neither file exists, or the `default` profile is
    ///   absent or has no keys; `ExportError.Code.configuration` for a malformed file (naming the
    ///   file and line), a profile named by `AWS_PROFILE` that neither file has, half a key pair, or
    ///   a profile that needs a credential source this library does not support.
    public func credentials() async throws -> AWSCredentials {
        let name = selectedProfile
        let credentialsFile = try Self.read(credentialsFilePath, kind: .credentials)
        let configFile = try Self.read(configFilePath, kind: .config)
        guard credentialsFile != nil || configFile != nil else {
            throw ExportError(.notFound, "neither \(credentialsFilePath) nor \(configFilePath) exists")
        }
        let fromConfig = configFile?.profiles[name]
        let fromCredentials = credentialsFile?.profiles[name]
        guard fromConfig != nil || fromCredentials != nil else {
            let message = "profile \(name) is in neither \(credentialsFilePath) nor \(configFilePath)"
            throw ExportError(profile == nil && nonEmpty("AWS_PROFILE") == nil ? .notFound : .configuration, message)
        }
        let properties = (fromConfig ?? [:]).merging(fromCredentials ?? [:]) { _, credentials in credentials }
        let key = properties["aws_access_key_id"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = properties["aws_secret_access_key"].flatMap { $0.isEmpty ? nil : $0 }
        switch (key, secret) {
        case (let key?, let secret?):
            let token = properties["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
        case (nil, nil):
            let unsupported = ["role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"]
            if let other = unsupported.first(where: { properties[$0] != nil }) {
                throw ExportError(
                    .configuration,
                    "profile \(name) gets credentials through \(other), which ExportAWS does not support; "
                        + "give the profile aws_access_key_id and aws_secret_access_key, or use another source")
            }
            throw ExportError(.notFound, "profile \(name) has no aws_access_key_id")
        default:
            throw ExportError(.configuration, "profile \(name) needs both aws_access_key_id and aws_secret_access_key")
        }
    }

    /// A file's profiles, or `nil` when it does not exist.
    static func read(_ path: String, kind: AWSProfileFile.Kind) throws(ExportError) -> AWSProfileFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExportError(.configuration, "\(path) exists but cannot be read")
        }
        return try AWSProfileFile.parse(Array(data), kind: kind, path: path)
    }

    private func nonEmpty(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    private func expand(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = nonEmpty("HOME") ?? FileManager.default.homeDirectoryForCurrentUser.path
        return home + path.dropFirst()
    }
}
