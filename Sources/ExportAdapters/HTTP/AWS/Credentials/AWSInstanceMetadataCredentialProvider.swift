import ExportCore
import Foundation

/// The EC2 instance role's credentials from the instance metadata service, IMDSv2 only.
///
/// It asks for a session token (`PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds`),
/// then, with the token in `X-aws-ec2-metadata-token`, reads the role's name
/// (`GET /latest/meta-data/iam/security-credentials/`) and its credentials (`GET …/<role>`). It never
/// falls back to IMDSv1's token-less requests.
///
/// `AWS_EC2_METADATA_DISABLED=true` turns it off; `AWS_EC2_METADATA_SERVICE_ENDPOINT` replaces
/// `http://169.254.169.254` (`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6` picks
/// `http://[fd00:ec2::254]`). Timeouts are short, as off EC2 nothing answers at that address.
public struct AWSInstanceMetadataCredentialProvider: AWSCredentialProvider {
    private let environment: [String: String]
    private let transport: any HTTPTransport
    /// How long each of the three requests may take.
    public var timeout: Duration
    /// The lifetime asked for the session token.
    public var tokenLifetime: Duration

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - environment: Where the variables are read; the process's by default.
    ///   - transport: The HTTP client; an ``HTTP1Transport`` by default (`https://` through URLSession).
    ///   - timeout: How long each request may take; 1 second by default, as the SDKs.
    ///   - tokenLifetime: The session token's lifetime; 6 hours by default (IMDS's maximum).
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        transport: any HTTPTransport = HTTP1Transport(),
        timeout: Duration = .seconds(1),
        tokenLifetime: Duration = .seconds(21_600)
    ) {
        self.environment = environment.only([
            "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        ])
        self.transport = transport
        self.timeout = timeout
        self.tokenLifetime = tokenLifetime
    }

    /// `instance metadata (IMDSv2)`.
    public var sourceName: String { "instance metadata (IMDSv2)" }

    /// The service's address.
    public var endpoint: URL {
        if let text = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"], !text.isEmpty, let url = URL(string: text) { return url }
        if environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]?.lowercased() == "ipv6" { return URL(string: "http://[fd00:ec2::254]")! }
        return URL(string: "http://169.254.169.254")!
    }

    /// Reads the instance role's credentials.
    ///
    /// - Returns: The credentials, with their expiry.
    /// - Throws: `ExportError.Code.notFound` when disabled, when nothing answers at the endpoint, or
    ///   when the instance has no role; the mapped `ExportError` when the service fails.
    public func credentials() async throws -> AWSCredentials {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" {
            throw ExportError(.notFound, "AWS_EC2_METADATA_DISABLED is true")
        }
        let base = endpoint.absoluteString.trimmingSuffix("/")
        let token: String
        do {
            let response = try await send("PUT", base + "/latest/api/token", [
                ("X-aws-ec2-metadata-token-ttl-seconds", String(tokenLifetime.components.seconds)),
            ])
            guard response.isSuccess else {
                throw AWSCredentialDocument.failure(response, source: "the instance metadata service", operation: "PUT /latest/api/token")
            }
            token = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
        } catch where AWSCredentialDocument.isUnreachable(error) {
            throw ExportError(.notFound, "no instance metadata service answered at \(base)", cause: error)
        }
        let header = [("X-aws-ec2-metadata-token", token)]
        let listing = base + "/latest/meta-data/iam/security-credentials/"
        let roles = try await send("GET", listing, header)
        if roles.status == 404 { throw ExportError(.notFound, "the instance has no IAM role (instance profile)") }
        guard roles.isSuccess else {
            throw AWSCredentialDocument.failure(roles, source: "the instance metadata service", operation: "GET the role name")
        }
        guard let role = roles.bodyText.split(whereSeparator: \.isNewline).first.map({ $0.trimmingCharacters(in: .whitespaces) }),
              !role.isEmpty, role.allSatisfy({ $0.isLetter || $0.isNumber || "+=,.@_-".contains($0) })
        else {
            throw ExportError(.corruptData, "the instance metadata service answered no usable role name")
        }
        let document = try await send("GET", listing + role, header)
        guard document.isSuccess else {
            throw AWSCredentialDocument.failure(document, source: "the instance metadata service", operation: "GET the role's credentials")
        }
        return try AWSCredentialDocument.parse(document.body, source: "the instance metadata service")
    }

    private func send(_ method: String, _ url: String, _ headers: [(name: String, value: String)]) async throws -> TransportResponse {
        guard let url = URL(string: url) else {
            throw ExportError(.configuration, "AWS_EC2_METADATA_SERVICE_ENDPOINT gives no usable URL: \(url)")
        }
        return try await transport.send(TransportRequest(method: method, url: url, headers: headers, timeout: timeout))
    }
}
