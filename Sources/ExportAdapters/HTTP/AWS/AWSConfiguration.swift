import ExportCore
import Foundation

/// Where and as whom the AWS adapters talk: credentials, region, an optional endpoint override for
/// S3-compatible services and local emulators (MinIO, moto, LocalStack), addressing style and timeout.
public struct AWSConfiguration: Sendable {
    /// The credentials every request is signed with.
    public var credentials: AWSCredentials
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
        self.credentials = credentials
        self.region = region
        self.endpoint = endpoint
        self.s3PathStyle = s3PathStyle ?? (endpoint != nil)
        self.timeout = timeout
    }

    /// Reads credentials and region from the standard variables (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or `AWS_DEFAULT_REGION`, and
    /// `AWS_ENDPOINT_URL` for an override).
    ///
    /// - Parameters:
    ///   - environment: The environment; the process's by default.
    ///   - endpoint: An endpoint override that wins over `AWS_ENDPOINT_URL`.
    /// - Returns: The configuration.
    /// - Throws: `ExportError.Code.configuration` when credentials or the region are missing.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        endpoint: URL? = nil
    ) throws(ExportError) -> AWSConfiguration {
        let credentials = try AWSCredentials.fromEnvironment(environment)
        guard let region = [environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]]
            .compactMap({ $0 }).first(where: { !$0.isEmpty })
        else {
            throw ExportError(.configuration, "Set AWS_REGION (or AWS_DEFAULT_REGION)")
        }
        let override = endpoint ?? environment["AWS_ENDPOINT_URL"].flatMap { $0.isEmpty ? nil : URL(string: $0) }
        return AWSConfiguration(credentials: credentials, region: region, endpoint: override)
    }

    /// The endpoint of a service: the override, or `https://<prefix>.<region>.amazonaws.com`.
    func endpoint(hostPrefix: String) -> URL {
        if let endpoint { return endpoint }
        return URL(string: "https://\(hostPrefix).\(region).amazonaws.com") ?? URL(fileURLWithPath: "/")
    }
}
