import ExportCore
import Foundation

/// Always the same credentials: long-term keys, or temporary ones a host refreshes itself.
public struct AWSStaticCredentialProvider: AWSCredentialProvider {
    /// The credentials returned.
    public var fixed: AWSCredentials

    /// Creates a provider of fixed credentials.
    ///
    /// - Parameters:
    ///   - credentials: The credentials to return.
    public init(_ credentials: AWSCredentials) { fixed = credentials }

    /// `static`.
    public var sourceName: String { "static" }

    /// Returns the fixed credentials.
    ///
    /// - Returns: The credentials.
    public func credentials() async throws -> AWSCredentials { fixed }
}
