import ExportCore
import Foundation

/// An AWS access key, its secret and, for temporary credentials, the session token and expiry.
///
/// `description`, `dump` and `Mirror` never show the secret or the token.
public struct AWSCredentials: Hashable, Sendable, CustomStringConvertible, CustomReflectable {
    /// The access key id, such as `AKIAIOSFODNN7EXAMPLE`.
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token of temporary credentials, if any.
    public var sessionToken: String?
    /// When temporary credentials stop working; `nil` for long-term keys that do not expire.
    public var expiration: Date?

    /// Creates credentials.
    ///
    /// - Parameters:
    ///   - accessKeyID: The access key id.
    ///   - secretAccessKey: The secret access key.
    ///   - sessionToken: The session token of temporary credentials, if any.
    ///   - expiration: When temporary credentials expire; `nil` when they do not.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
    ///
    /// - Parameters:
    ///   - environment: The environment; the process's by default.
    /// - Returns: The credentials.
    /// - Throws: `ExportError.Code.configuration` when the key or the secret is missing.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ExportError) -> AWSCredentials {
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty,
              let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else {
            throw ExportError(.configuration, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
    }

    /// The access key id only.
    public var description: String {
        "AWSCredentials(\(accessKeyID), secret: <redacted>\(expiration.map { ", expires: \($0)" } ?? ""))"
    }

    /// A mirror with the access key id and the secret and token redacted, for `dump` and debuggers.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "accessKeyID": accessKeyID, "secretAccessKey": "<redacted>",
            "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
            "expiration": expiration.map { "\($0)" } ?? "nil",
        ], displayStyle: .struct)
    }
}
