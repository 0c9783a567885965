import ExportCore
import Foundation

/// Signs, sends and maps errors for one AWS service. Internal plumbing shared by the adapters.
struct AWSServiceClient: Sendable {
    let configuration: AWSConfiguration
    let service: String
    let endpoint: URL
    let transport: any HTTPTransport
    let clock: any ExportClock

    init(
        configuration: AWSConfiguration,
        service: String,
        hostPrefix: String,
        transport: any HTTPTransport,
        clock: any ExportClock
    ) {
        self.configuration = configuration
        self.service = service
        self.endpoint = configuration.endpoint(hostPrefix: hostPrefix)
        self.transport = transport
        self.clock = clock
    }

    /// A signer with the provider's current credentials (cached by the provider: asked per request).
    func signer() async throws -> AWSSigner {
        let credentials = try await configuration.credentialProvider.credentials()
        return AWSSigner(credentials: credentials, region: configuration.region, service: service)
    }

    /// Signs and sends a request; returns the response whatever its status.
    func send(
        method: String,
        endpoint: URL? = nil,
        path: String,
        query: [(String, String)] = [],
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        payload: AWSSigner.Payload? = nil,
        contentHashHeader: Bool = false,
        timeout: Duration? = nil
    ) async throws -> TransportResponse {
        let signed = try await signer().sign(
            method: method, endpoint: endpoint ?? self.endpoint, path: path, query: query, headers: headers,
            payload: payload ?? .bytes(body), contentHashHeader: contentHashHeader, date: clock.now()
        )
        let request = TransportRequest(
            method: method, url: signed.url, headers: signed.headers, body: body, timeout: timeout ?? configuration.timeout
        )
        return try await transport.send(request)
    }

    /// Calls an operation of the AWS JSON protocol (`X-Amz-Target`), returning the response document.
    /// Like the AWS SDKs' standard retry mode, throttling, timeouts and 5xx are retried here a few
    /// times with a short exponential backoff (real time: this is network back-pressure, not the
    /// pipeline's logical time) before the error reaches the caller.
    ///
    /// `refine` sees each mapped error with the service's bare code and whole message (the error's own
    /// message keeps only 300 characters of it) and returns the error to report.
    func json(
        target: String, _ body: JSONValue, contentType: String = "application/x-amz-json-1.0", timeout: Duration? = nil,
        refine: ErrorRefinement? = nil
    ) async throws -> JSONValue {
        var attempt = 1
        while true {
            do {
                return try await jsonOnce(target: target, body, contentType: contentType, timeout: timeout, refine: refine)
            } catch let error as ExportError
                where attempt < 3 && [.throttled, .unavailable, .timeout].contains(error.code) {
                try await Task.sleep(for: .milliseconds(50 << attempt))
                attempt += 1
            }
        }
    }

    /// Rewrites a mapped error knowing the service's bare code and its whole, untruncated message.
    typealias ErrorRefinement = @Sendable (_ error: ExportError, _ serviceCode: String, _ message: String) -> ExportError

    private func jsonOnce(
        target: String, _ body: JSONValue, contentType: String, timeout: Duration?, refine: ErrorRefinement?
    ) async throws -> JSONValue {
        let response = try await send(
            method: "POST", path: "/",
            headers: [("Content-Type", contentType), ("X-Amz-Target", target)],
            body: body.serialized(), timeout: timeout
        )
        let operation = target.split(separator: ".").last.map(String.init) ?? target
        guard response.isSuccess else { throw jsonError(response, operation: operation, refine: refine) }
        if response.body.isEmpty { return .object([:]) }
        return try JSONValue.parse(response.body)
    }

    /// The error of a failed JSON-protocol response.
    func jsonError(_ response: TransportResponse, operation: String, refine: ErrorRefinement? = nil) -> ExportError {
        let document = try? JSONValue.parse(response.body)
        var code = document?["__type"]?.stringValue ?? document?["code"]?.stringValue
            ?? response.header("x-amzn-errortype")
        if let queryError = response.header("x-amzn-query-error") { code = queryError }
        var message = document?["message"]?.stringValue ?? document?["Message"]?.stringValue
        if document == nil, let xml = XMLNode.parse(response.body) {
            // Some failures (signature checks in front of the service) answer in XML whatever the protocol.
            code = code ?? xml.first("Code")?.text
            message = message ?? xml.first("Message")?.text
        }
        let error = HTTPErrorMapping.error(
            status: response.status, serviceCode: code, message: message, operation: operation,
            retryAfter: response.header("retry-after"), now: clock.now()
        )
        return refine?(error, code.map(HTTPErrorMapping.shortCode) ?? "", message ?? "") ?? error
    }

    /// The error of a failed XML-protocol (S3, query) response.
    func xmlError(_ response: TransportResponse, operation: String) -> ExportError {
        let document = XMLNode.parse(response.body)
        let error = document?.first("Error") ?? document
        return HTTPErrorMapping.error(
            status: response.status, serviceCode: error?.first("Code")?.text,
            message: error?.first("Message")?.text, operation: operation,
            retryAfter: response.header("retry-after"), now: clock.now()
        )
    }
}
