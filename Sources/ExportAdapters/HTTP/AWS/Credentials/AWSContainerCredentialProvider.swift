import ExportCore
import Foundation

/// Credentials from the container credentials endpoint of ECS, EKS Pod Identity or a local
/// stand-in, as the AWS SDKs find it.
///
/// - `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is a path on `http://169.254.170.2` (ECS).
/// - Otherwise `AWS_CONTAINER_CREDENTIALS_FULL_URI` is a whole URL: any `https` URL, or an `http`
///   one whose host is a loopback address (`127.0.0.0/8`, `::1`, `localhost`) or the ECS or EKS
///   address (`169.254.170.2`, `169.254.170.23`, `fd00:ec2::23`), as the SDKs restrict it.
/// - The `Authorization` header is the contents of `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read
///   at each call, as EKS rotates it), else `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
///
/// `description`, `dump` and `Mirror` never show the authorization token.
public struct AWSContainerCredentialProvider: AWSCredentialProvider, CustomStringConvertible, CustomReflectable {
    private let environment: [String: String]
    private let transport: any HTTPTransport
    /// How long one request to the endpoint may take.
    public var timeout: Duration
    /// Where a relative URI points; `http://169.254.170.2` but for tests.
    public var relativeBase: URL

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - environment: Where the variables are read; the process's by default.
    ///   - transport: The HTTP client; an ``HTTP1Transport`` by default (`https://` through URLSession).
    ///   - timeout: How long one request may take; 2 seconds by default.
    ///   - relativeBase: The host of relative URIs; ECS's `http://169.254.170.2` by default.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        transport: any HTTPTransport = HTTP1Transport(),
        timeout: Duration = .seconds(2),
        relativeBase: URL = URL(string: "http://169.254.170.2")!
    ) {
        self.environment = environment.only(Self.variables)
        self.transport = transport
        self.timeout = timeout
        self.relativeBase = relativeBase
    }

    /// `container`.
    public var sourceName: String { "container" }

    /// The variables read.
    static let variables = [
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ]

    /// The endpoint variables, with the token redacted.
    public var description: String {
        let shown = environment.map { name, value in
            "\(name)=\(name == "AWS_CONTAINER_AUTHORIZATION_TOKEN" ? "<redacted>" : value)"
        }
        return "AWSContainerCredentialProvider(\(shown.sorted().joined(separator: ", ")))"
    }

    /// A mirror with the token redacted, for `dump` and debuggers.
    public var customMirror: Mirror {
        Mirror(self, children: ["description": description, "timeout": timeout], displayStyle: .struct)
    }

    /// Asks the endpoint for credentials.
    ///
    /// - Returns: The credentials, with their expiry.
    /// - Throws: `ExportError.Code.notFound` when neither URI variable is set;
    ///   `ExportError.Code.configuration` for a URI the SDKs refuse or an unreadable token file;
    ///   the mapped `ExportError` when the endpoint fails or answers something else than credentials.
    public func credentials() async throws -> AWSCredentials {
        let url = try endpoint()
        var request = TransportRequest(method: "GET", url: url, headers: [("Accept", "application/json")], timeout: timeout)
        if let token = try authorizationToken() { request.setHeader("Authorization", token) }
        let response = try await transport.send(request)
        guard response.isSuccess else {
            throw AWSCredentialDocument.failure(response, source: "the container credentials endpoint", operation: "GET")
        }
        return try AWSCredentialDocument.parse(response.body, source: "the container credentials endpoint")
    }

    /// The endpoint the variables name.
    func endpoint() throws(ExportError) -> URL {
        if let relative = value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            let path = relative.hasPrefix("/") ? relative : "/" + relative
            guard let url = URL(string: relativeBase.absoluteString.trimmingSuffix("/") + path) else {
                throw ExportError(.configuration, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a URL path: \(relative)")
            }
            return url
        }
        guard let full = value("AWS_CONTAINER_CREDENTIALS_FULL_URI") else {
            throw ExportError(.notFound, "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set")
        }
        guard let url = URL(string: full), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw ExportError(.configuration, "AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL: \(full)")
        }
        guard scheme == "https" || (scheme == "http" && Self.isAllowedPlainHost(host)) else {
            throw ExportError(
                .configuration,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback address or the ECS or EKS address, not \(full)")
        }
        return url
    }

    /// Whether plain HTTP may go to this host: loopback, or the ECS and EKS credential addresses.
    static func isAllowedPlainHost(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let lowered = bare.lowercased()
        if ["localhost", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"].contains(lowered) { return true }
        let octets = lowered.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    private func authorizationToken() throws(ExportError) -> String? {
        var token: String?
        if let path = value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ExportError(.configuration, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(path) cannot be read")
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            token = value("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        }
        guard let token, !token.isEmpty else { return nil }
        guard !token.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            throw ExportError(.configuration, "the container authorization token contains a line break")
        }
        return token
    }

    private func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
}

extension Dictionary where Key == String, Value == String {
    /// The entries whose names are listed, so a provider keeps no other variable (no stray secret).
    func only(_ names: [String]) -> [String: String] { filter { names.contains($0.key) } }
}

extension String {
    /// The string without one trailing `suffix`.
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
