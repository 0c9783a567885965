import ExportCore
import Foundation

/// A `MembershipSource` that pages a host's HTTP memberships API.
///
/// Each page is one GET of the URL template with the owner, the cursor and the limit. Failures:
/// 5xx, 408, 429 and transport errors are retried up to ``Configuration/maxAttempts`` times with
/// exponential backoff, or after `Retry-After` when the server sends one (sleeping on the injected
/// clock); then a retryable `ExportError` is thrown so the job retries later. 401/403/404 and other
/// 4xx are permanent. A response that is not JSON, lacks the rows array, or has a row missing a
/// required field is `ExportError.Code.corruptData` (permanent), naming the field.
public struct HTTPMembershipSource: MembershipSource {
    /// The API description.
    public let configuration: Configuration
    let transport: any HTTPTransport
    let clock: any ExportClock

    /// Creates the source.
    ///
    /// - Parameters:
    ///   - configuration: The API description.
    ///   - transport: The HTTP transport; an ``HTTP1Transport`` by default (`https://` through URLSession).
    ///   - clock: The clock that backoff sleeps on.
    /// - Throws: `ExportError.Code.configuration` when the template has no `{owner}` or no scheme.
    public init(
        configuration: Configuration,
        transport: any HTTPTransport = HTTP1Transport(),
        clock: any ExportClock = SystemClock()
    ) throws(ExportError) {
        guard configuration.urlTemplate.contains("{owner}"), configuration.urlTemplate.hasPrefix("http") else {
            throw ExportError(.configuration, "The memberships URL template must be an http(s) URL containing {owner}")
        }
        self.configuration = configuration
        self.transport = transport
        self.clock = clock
    }

    /// Reads one page.
    ///
    /// - Parameters:
    ///   - owner: The user.
    ///   - cursor: The previous page's cursor, or `nil`.
    ///   - limit: The page size.
    /// - Returns: The rows and the next cursor.
    /// - Throws: `ExportError` as described on the type.
    public func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        let request = try makeRequest(owner: owner, cursor: cursor, limit: limit)
        var attempt = 1
        while true {
            let error: ExportError
            do {
                let response = try await transport.send(request)
                if response.isSuccess { return try parse(response.body, owner: owner) }
                error = HTTPErrorMapping.error(
                    status: response.status, serviceCode: nil, message: String(response.bodyText.prefix(200)),
                    operation: "GET memberships", retryAfter: response.header("retry-after"), now: clock.now()
                )
            } catch let failure as ExportError {
                error = failure
            }
            guard error.isRetryable, attempt < configuration.maxAttempts else { throw error }
            let delay: Duration
            if let retryAt = error.retryAt {
                let wait = max(0, retryAt.timeIntervalSince(clock.now()))
                guard wait <= DurationSeconds.of(configuration.maximumRetryAfter) else { throw error }
                delay = .milliseconds(Int64(wait * 1000))
            } else {
                let exponent = Double(1 << min(attempt - 1, 20))
                delay = min(configuration.maximumBackoff, configuration.initialBackoff * exponent)
            }
            try await clock.sleep(for: delay)
            attempt += 1
        }
    }

    func makeRequest(owner: UserID, cursor: PageCursor?, limit: Int) throws(ExportError) -> TransportRequest {
        guard limit >= 1 else { throw ExportError(.invalidRequest, "The page limit must be at least 1") }
        let text = configuration.urlTemplate.replacingOccurrences(of: "{owner}", with: AWSSigner.encode(owner.rawValue))
        guard var components = URLComponents(string: text) else {
            throw ExportError(.configuration, "The memberships URL template does not make a URL")
        }
        var items = components.queryItems ?? []
        items.append(URLQueryItem(name: configuration.limitParameter, value: String(limit)))
        if let cursor { items.append(URLQueryItem(name: configuration.cursorParameter, value: cursor.token)) }
        components.percentEncodedQuery = items.map {
            "\(AWSSigner.encode($0.name))=\(AWSSigner.encode($0.value ?? ""))"
        }.joined(separator: "&")
        guard let url = components.url else { throw ExportError(.configuration, "The memberships URL is not valid") }
        var request = TransportRequest(method: "GET", url: url, headers: [("Accept", "application/json")], timeout: configuration.timeout)
        if let token = configuration.bearerToken { request.setHeader("Authorization", "Bearer \(token)") }
        return request
    }
}
