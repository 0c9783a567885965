import Foundation

/// A received HTTP response: status, headers (names lower-cased) and the whole body.
public struct TransportResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The headers, keyed by lower-cased name.
    public var headers: [String: String]
    /// The body.
    public var body: [UInt8]

    /// Creates a response.
    ///
    /// - Parameters:
    ///   - status: The status code.
    ///   - headers: The headers; names are lower-cased on the way in.
    ///   - body: The body.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        var lowered: [String: String] = [:]
        for (name, value) in headers { lowered[name.lowercased()] = value }
        self.headers = lowered
        self.body = body
    }

    /// A header's value.
    ///
    /// - Parameters:
    ///   - name: The header name, in any case.
    /// - Returns: Its value, or `nil` when absent.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The body as UTF-8 text (invalid bytes replaced), for error messages.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
