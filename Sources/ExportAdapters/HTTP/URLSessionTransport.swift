import ExportCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The ``HTTPTransport`` on `URLSession` (FoundationNetworking on Linux).
///
/// Responses are read whole (`data(for:)`), because `bytes(for:)` does not exist on Linux; callers
/// that stream large objects ask for bounded ranges instead. A request with a body and no
/// `Content-Type` gets `application/octet-stream`, because URLSession on Linux would otherwise send
/// `application/x-www-form-urlencoded`, which changes what the peer parses and what was signed.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession

    /// Creates a transport with its own ephemeral session (no cookies, no cache).
    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Sends one request.
    ///
    /// - Parameters:
    ///   - request: The request.
    /// - Returns: The response, whatever its status.
    /// - Throws: `ExportError.Code.timeout` or `ExportError.Code.unavailable` (retryable) when no
    ///   response arrived; `CancellationError` when the task was cancelled.
    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = max(0.001, Double(request.timeout.components.seconds)
            + Double(request.timeout.components.attoseconds) / 1e18)
        for header in request.headers {
            urlRequest.addValue(header.value, forHTTPHeaderField: header.name)
        }
        if !request.body.isEmpty || ["PUT", "POST", "PATCH"].contains(request.method) {
            urlRequest.httpBody = Data(request.body)
            if request.header("Content-Type") == nil {
                urlRequest.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
            }
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: urlRequest)
        } catch let error as URLError {
            if Task.isCancelled { throw CancellationError() }
            throw Self.map(Self.withoutURL(error), request: request)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ExportError(.unavailable, "\(request.method) \(Self.redacted(request.url)) failed: \(error)", cause: error)
        }
        guard let http = response as? HTTPURLResponse else {
            throw ExportError(.unavailable, "\(request.method) \(Self.redacted(request.url)) got a non-HTTP response")
        }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name] = value }
        }
        return TransportResponse(status: http.statusCode, headers: headers, body: [UInt8](data))
    }

    private static func map(_ error: URLError, request: TransportRequest) -> ExportError {
        let target = "\(request.method) \(redacted(request.url))"
        switch error.code {
        case .timedOut:
            return ExportError(.timeout, "\(target) timed out after \(request.timeout)", cause: error)
        case .cancelled:
            return ExportError(.cancelled, "\(target) was cancelled", cause: error, isRetryable: true)
        case .badURL, .unsupportedURL:
            return ExportError(.configuration, "\(target) has an unusable URL", cause: error)
        default:
            return ExportError(.unavailable, "\(target) failed: \(error.localizedDescription)", cause: error)
        }
    }

    /// The same error without its failing URL (whose query may hold a presigned signature or a token),
    /// so an `ExportError`'s description, which prints its cause, cannot leak it.
    static func withoutURL(_ error: URLError) -> URLError {
        URLError(error.code)
    }

    /// The URL without its query, which may hold a presigned signature or a token, and without a user
    /// or password.
    static func redacted(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "<url>" }
        components.query = nil
        components.user = nil
        components.password = nil
        return components.string ?? "<url>"
    }
}
