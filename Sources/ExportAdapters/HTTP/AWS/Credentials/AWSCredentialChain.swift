import ExportCore
import Foundation
import Synchronization

/// Tries credential providers in order and uses the first that has credentials, as the AWS SDKs'
/// default chain does.
///
/// A provider that throws `ExportError.Code.notFound` is not set up here and the next one is
/// tried; any other error means the source is set up but failing, and the chain stops with it
/// rather than sign as someone else. When no provider has credentials, the error lists what each
/// said. The provider that worked is tried first next time (``source`` names it), and the whole
/// chain again only if it stops being set up.
///
/// Wrap the chain in ``AWSCachingCredentialProvider`` (as ``AWSConfiguration/fromEnvironment(_:endpoint:transport:)``
/// does): the chain itself caches nothing.
public final class AWSCredentialChain: AWSCredentialProvider {
    /// The providers, in the order they are tried.
    public let providers: [any AWSCredentialProvider]
    private let chosen = Mutex<Int?>(nil)

    /// Creates a chain.
    ///
    /// - Parameters:
    ///   - providers: The providers, first tried first.
    public init(_ providers: [any AWSCredentialProvider]) {
        self.providers = providers
    }

    /// The SDKs' default chain: the environment's keys, web identity, the shared files' profile,
    /// the container endpoint, then the EC2 instance metadata service (IMDSv2).
    ///
    /// - Parameters:
    ///   - environment: Where every provider reads its variables; the process's by default.
    ///   - region: The region of the STS endpoint for web identity.
    ///   - stsEndpoint: An STS endpoint override for web identity (a local emulator).
    ///   - transport: The HTTP client of the providers that use the network; an ``HTTP1Transport`` by default.
    ///   - clock: The clock of web identity's generated session names.
    /// - Returns: The chain.
    public static func `default`(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        region: String? = nil,
        stsEndpoint: URL? = nil,
        transport: any HTTPTransport = HTTP1Transport(),
        clock: any ExportClock = SystemClock()
    ) -> AWSCredentialChain {
        AWSCredentialChain([
            AWSEnvironmentCredentialProvider(environment: environment),
            AWSWebIdentityCredentialProvider(
                environment: environment, region: region, stsEndpoint: stsEndpoint, transport: transport, clock: clock),
            AWSProfileCredentialProvider(environment: environment),
            AWSContainerCredentialProvider(environment: environment, transport: transport),
            AWSInstanceMetadataCredentialProvider(environment: environment, transport: transport),
        ])
    }

    /// `chain`, or `chain (<source>)` once a source has worked.
    public var sourceName: String { source.map { "chain (\($0))" } ?? "chain" }

    /// The name of the provider whose credentials were returned last, or `nil` before any were.
    public var source: String? { chosen.withLock { $0 }.map { providers[$0].sourceName } }

    /// Returns the first credentials a provider has.
    ///
    /// - Returns: The credentials.
    /// - Throws: `ExportError.Code.configuration` listing every source and what it said when none
    ///   is set up; the error of the first source that is set up but failed, with what was tried
    ///   before it.
    public func credentials() async throws -> AWSCredentials {
        if let index = chosen.withLock({ $0 }) {
            do {
                return try await providers[index].credentials()
            } catch let error as ExportError where error.code == .notFound {
                chosen.withLock { $0 = nil }
            } catch let error as ExportError {
                throw Self.failure(error, from: providers[index], tried: [])
            }
        }
        var tried: [String] = []
        for (index, provider) in providers.enumerated() {
            do {
                let credentials = try await provider.credentials()
                chosen.withLock { $0 = index }
                return credentials
            } catch let error as ExportError where error.code == .notFound {
                tried.append("\(provider.sourceName): \(error.message)")
            } catch let error as ExportError {
                throw Self.failure(error, from: provider, tried: tried)
            }
        }
        throw ExportError(
            .configuration,
            "no AWS credentials found; tried \(tried.isEmpty ? "no source" : tried.joined(separator: "; "))")
    }

    /// A set-up source's error, naming the source and what was tried before it; code and retryability kept.
    private static func failure(_ error: ExportError, from provider: any AWSCredentialProvider, tried: [String]) -> ExportError {
        let before = tried.isEmpty ? "" : " (tried before it: \(tried.joined(separator: "; ")))"
        return ExportError(
            error.code, "AWS credentials from \(provider.sourceName) failed: \(error.message)\(before)",
            cause: error, isRetryable: error.isRetryable, retryAt: error.retryAt)
    }
}
