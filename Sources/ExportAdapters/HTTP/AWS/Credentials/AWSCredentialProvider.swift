import ExportCore
import Foundation

/// Where AWS credentials come from: static keys, the environment, the shared files, STS web identity,
/// a container's or an EC2 instance's metadata service, or a chain of those.
///
/// ``AWSConfiguration`` holds one provider and asks it for credentials before signing each request,
/// so temporary credentials can be replaced while a process runs. Wrap a provider that fetches over
/// the network in ``AWSCachingCredentialProvider`` so that asking is cheap.
///
/// ## Implementation requirements
/// - Return credentials that are valid now, with ``AWSCredentials/expiration`` set when they are
///   temporary, so a cache knows when to refresh them.
/// - Throw `ExportError` with `ExportError.Code.notFound` when the source is simply not set up
///   here (its variables or files are absent): ``AWSCredentialChain`` then tries the next source.
///   Any other error means the source is set up but failed, and the chain stops with it.
/// - Never put a secret access key, session token or authorization token in an error, a
///   description or a mirror.
public protocol AWSCredentialProvider: Sendable {
    /// A short name for reports, such as `environment` or `web identity`.
    var sourceName: String { get }

    /// Returns credentials valid now.
    ///
    /// - Returns: The credentials.
    /// - Throws: `ExportError.Code.notFound` when this source is not set up; another `ExportError`
    ///   when it is set up but failed.
    func credentials() async throws -> AWSCredentials
}

extension AWSCredentialProvider {
    /// The type's name, for providers that do not give one.
    public var sourceName: String { String(describing: Self.self) }
}
