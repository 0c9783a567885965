import ExportCore
import Foundation

/// Temporary credentials for a role, from STS `AssumeRoleWithWebIdentity` with an OIDC token from a
/// file: how EKS service accounts (IRSA) and most CI systems hand a process AWS access.
///
/// It reads `AWS_WEB_IDENTITY_TOKEN_FILE` (again at each call: the token rotates), `AWS_ROLE_ARN` and
/// `AWS_ROLE_SESSION_NAME` (a generated name when unset). The call is unsigned, as STS requires of
/// this action, and goes to the endpoint given, else `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`,
/// else the regional `https://sts.<region>.amazonaws.com` (`https://sts.amazonaws.com` without a region).
public struct AWSWebIdentityCredentialProvider: AWSCredentialProvider {
    private let environment: [String: String]
    private let transport: any HTTPTransport
    private let clock: any ExportClock
    /// The STS endpoint.
    public var stsEndpoint: URL
    /// How long the STS call may take.
    public var timeout: Duration

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - environment: Where the variables are read; the process's by default.
    ///   - region: The region of the STS endpoint; `AWS_REGION` or `AWS_DEFAULT_REGION` when `nil`.
    ///   - stsEndpoint: An STS endpoint override (a local emulator); the variables' or AWS's when `nil`.
    ///   - transport: The HTTP client; an ``HTTP1Transport`` by default (`https://` through URLSession).
    ///   - clock: The clock the generated session name is taken from.
    ///   - timeout: How long the STS call may take; 10 seconds by default.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        region: String? = nil,
        stsEndpoint: URL? = nil,
        transport: any HTTPTransport = HTTP1Transport(),
        clock: any ExportClock = SystemClock(),
        timeout: Duration = .seconds(10)
    ) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let region = region ?? value("AWS_REGION") ?? value("AWS_DEFAULT_REGION")
        let regional = URL(string: region.map { "https://sts.\($0).amazonaws.com" } ?? "https://sts.amazonaws.com")
        self.stsEndpoint = stsEndpoint ?? [value("AWS_ENDPOINT_URL_STS"), value("AWS_ENDPOINT_URL")].lazy
            .compactMap { $0.flatMap(URL.init(string:)) }.first ?? regional ?? URL(string: "https://sts.amazonaws.com")!
        self.environment = environment.only(["AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME"])
        self.transport = transport
        self.clock = clock
        self.timeout = timeout
    }

    /// `web identity`.
    public var sourceName: String { "web identity" }

    /// Exchanges the token for the role's credentials.
    ///
    /// - Returns: The credentials, with their expiry.
    /// - Throws: `ExportError.Code.notFound` when `AWS_WEB_IDENTITY_TOKEN_FILE` is not set;
    ///   `ExportError.Code.configuration` when `AWS_ROLE_ARN` is missing or the token file cannot be
    ///   read; the mapped STS error (`InvalidIdentityToken`, `AccessDenied`, throttling) otherwise.
    public func credentials() async throws -> AWSCredentials {
        guard let tokenFile = value("AWS_WEB_IDENTITY_TOKEN_FILE") else {
            throw ExportError(.notFound, "AWS_WEB_IDENTITY_TOKEN_FILE is not set")
        }
        guard let role = value("AWS_ROLE_ARN") else {
            throw ExportError(.configuration, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
        }
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw ExportError(.configuration, "AWS_WEB_IDENTITY_TOKEN_FILE \(tokenFile) cannot be read")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw ExportError(.configuration, "AWS_WEB_IDENTITY_TOKEN_FILE \(tokenFile) is empty") }
        let session = value("AWS_ROLE_SESSION_NAME") ?? "membership-export-\(Int(clock.now().timeIntervalSince1970))"
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", role),
            ("RoleSessionName", session), ("WebIdentityToken", token),
        ].map { "\(AWSSigner.encode($0.0))=\(AWSSigner.encode($0.1))" }.joined(separator: "&")
        let request = TransportRequest(
            method: "POST", url: stsEndpoint,
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Accept", "text/xml")],
            body: Array(form.utf8), timeout: timeout)
        let response = try await transport.send(request)
        let document = XMLNode.parse(response.body)
        guard response.isSuccess else {
            let error = document?.first("Error")
            throw HTTPErrorMapping.error(
                status: response.status, serviceCode: error?.value("Code"), message: error?.value("Message"),
                operation: "AssumeRoleWithWebIdentity (\(role))", retryAfter: response.header("retry-after"), now: clock.now())
        }
        guard let credentials = document?.first("AssumeRoleWithWebIdentityResult")?.first("Credentials"),
              let key = credentials.value("AccessKeyId"), !key.isEmpty,
              let secret = credentials.value("SecretAccessKey"), !secret.isEmpty
        else {
            throw ExportError(.corruptData, "STS answered AssumeRoleWithWebIdentity without credentials (\(response.body.count) bytes)")
        }
        let expiration = try credentials.value("Expiration").map { text throws(ExportError) in
            guard let date = try? RFC3339.parse(text) else {
                throw ExportError(.corruptData, "STS answered an Expiration that is not RFC 3339: \(text.prefix(40))")
            }
            return date
        }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret,
            sessionToken: credentials.value("SessionToken").flatMap { $0.isEmpty ? nil : $0 }, expiration: expiration)
    }

    private func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
}
