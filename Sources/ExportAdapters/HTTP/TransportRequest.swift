import Foundation

/// One HTTP request as the adapters build it: method, URL, headers in order, body and timeout.
///
/// Headers are kept as an ordered list of name/value pairs so a signer sees exactly what is sent.
public struct TransportRequest: Sendable {
    /// The method, such as `GET`.
    public var method: String
    /// The full URL, already percent-encoded.
    public var url: URL
    /// The headers, in order; names are case-insensitive.
    public var headers: [(name: String, value: String)]
    /// The body; empty for none.
    public var body: [UInt8]
    /// How long the whole exchange may take.
    public var timeout: Duration

    /// Creates a request.
    ///
    /// - Parameters:
    ///   - method: The method, such as `GET`.
    ///   - url: The full URL.
    ///   - headers: The headers, in order.
    ///   - body: The body; empty for none.
    ///   - timeout: How long the whole exchange may take; 30 seconds by default.
    public init(
        method: String,
        url: URL,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// The first value of a header.
    ///
    /// - Parameters:
    ///   - name: The header name, in any case.
    /// - Returns: Its value, or `nil` when absent.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Sets a header, replacing any value it had.
    ///
    /// - Parameters:
    ///   - name: The header name.
    ///   - value: The value.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append((name, value))
    }
}
