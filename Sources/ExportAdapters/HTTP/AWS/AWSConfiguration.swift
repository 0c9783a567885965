import ExportCore
import Foundation

/// Where and as whom the AWS adapters talk: a credential provider, region, an optional endpoint
/// override for S3-compatible services and local emulators (MinIO, moto, LocalStack), addressing
/// style and timeout.
public struct AWSConfiguration: Sendable {
    /// Where the credentials come from; asked before each request is signed, so keep it cheap
    /// (wrap network sources in ``AWSCachingCredentialProvider``).
    public var credentialProvider: any AWSCredentialProvider
    /// The region, such as `eu-west-1`.
    public var region: String
    /// An endpoint used for every service instead of the AWS one, such as `http://127.0.0.1:5000`.
    public var endpoint: URL?
    /// Whether S3 buckets go in the path (`host/bucket/key`) rather than the host name
    /// (`bucket.host/key`). Defaults to `true` with an endpoint override, `false` otherwise.
    public var s3PathStyle: Bool
    /// How long one HTTP exchange may take.
    public var timeout: Duration

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - credentialProvider: Where credentials come from, such as ``AWSCredentialChain/default(environment:region:stsEndpoint:transport:clock:)``
    ///     in an ``AWSCachingCredentialProvider``.
    ///   - region: The region.
    ///   - endpoint: An endpoint override, or `nil` for AWS.
    ///   - s3PathStyle: Path-style S3 addressing; by default only with an endpoint override.
    ///   - timeout: How long one exchange may take; 30 seconds by default.
    public init(
        credentialProvider: any AWSCredentialProvider,
        region: String,
        endpoint: URL? = nil,
        s3PathStyle: Bool? = nil,
        timeout: Duration = .seconds(30)
    ) {
        self.credentialProvider = credentialProvider
        self.region = region
        self.endpoint = endpoint
        self.s3PathStyle = s3PathStyle ?? (endpoint != nil)
        self.timeout = timeout
    }

    /// Creates a configuration that signs with fixed credentials.
    ///
    /// - Parameters:
    ///   - credentials: The credentials.
    ///   - region: The region.
    ///   - endpoint: An endpoint override, or `nil` for AWS.
    ///   - s3PathStyle: Path-style S3 addressing; by default only with an endpoint override.
    ///   - timeout: How long one exchange may take; 30 seconds by default.
    public init(
        credentials: AWSCredentials,
        region: String,
        endpoint: URL? = nil,
        s3PathStyle: Bool? = nil,
        timeout: Duration = .seconds(30)
    ) {
        self.init(
            credentialProvider: AWSStaticCredentialProvider(credentials), region: region, endpoint: endpoint,
            s3PathStyle: s3PathStyle, timeout: timeout)
    }

    /// Reads the region from `AWS_REGION` or `AWS_DEFAULT_REGION` and an override from
    /// `AWS_ENDPOINT_URL`, and takes credentials from the SDKs' default chain
    /// (``AWSCredentialChain/default(environment:region:stsEndpoint:transport:clock:)``: the key
    /// variables, web identity, the shared files, the container endpoint, IMDSv2), cached and
    /// refreshed ahead of expiry by ``AWSCachingCredentialProvider``.
    ///
    /// Credentials are looked up at the first request, not here; call
    /// ``AWSCredentialProvider/credentials()`` on ``credentialProvider`` to fail fast at start-up.
    ///
    /// - Parameters:
    ///   - environment: The environment; the process's by default.
    ///   - endpoint: An endpoint override that wins over `AWS_ENDPOINT_URL`.
    ///   - transport: The HTTP client of the credential sources that use the network; an ``HTTP1Transport`` by default.
    /// - Returns: The configuration.
    /// - Throws: `ExportError.Code.configuration` when the region is missing.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        endpoint: URL? = nil,
        transport: any HTTPTransport = HTTP1Transport()
    ) throws(ExportError) -> AWSConfiguration {
        guard let region = [environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]]
            .compactMap({ $0 }).first(where: { !$0.isEmpty })
        else {
            throw ExportError(.configuration, "Set AWS_REGION (or AWS_DEFAULT_REGION)")
        }
        let override = endpoint ?? environment["AWS_ENDPOINT_URL"].flatMap { $0.isEmpty ? nil : URL(string: $0) }
        let chain = AWSCredentialChain.default(environment: environment, region: region, transport: transport)
        return AWSConfiguration(
            credentialProvider: AWSCachingCredentialProvider(wrapping: chain), region: region, endpoint: override)
    }

    /// The endpoint of a service: the override, or `https://<prefix>.<region>.amazonaws.com`.
    func endpoint(hostPrefix: String) -> URL {
        if let endpoint { return endpoint }
        return URL(string: "https://\(hostPrefix).\(region).amazonaws.com") ?? URL(fileURLWithPath: "/")
    }
}
