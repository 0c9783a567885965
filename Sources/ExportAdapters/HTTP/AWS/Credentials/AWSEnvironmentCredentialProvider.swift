import ExportCore
import Foundation

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, read when asked.
public struct AWSEnvironmentCredentialProvider: AWSCredentialProvider {
    private let environment: @Sendable () -> [String: String]

    /// Creates a provider over an environment.
    ///
    /// - Parameters:
    ///   - environment: The variables; the process's (read at each call) by default.
    public init(environment: [String: String]? = nil) {
        if let environment {
            self.environment = { environment }
        } else {
            self.environment = { ProcessInfo.processInfo.environment }
        }
    }

    /// `environment`.
    public var sourceName: String { "environment" }

    /// Reads the variables.
    ///
    /// - Returns: The credentials.
    /// - Throws: `ExportError.Code.notFound` when neither key variable is set;
    ///   `ExportError.Code.configuration` when only one of them is.
    public func credentials() async throws -> AWSCredentials {
        let environment = environment()
        let key = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (key, secret) {
        case (nil, nil):
            throw ExportError(.notFound, "AWS_ACCESS_KEY_ID is not set")
        case (let key?, let secret?):
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
        case (nil, _):
            throw ExportError(.configuration, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (_, nil):
            throw ExportError(.configuration, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        }
    }
}
