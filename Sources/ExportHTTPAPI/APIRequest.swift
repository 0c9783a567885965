import ExportCore
import Foundation

/// An HTTP request as the host's server received it, converted to plain values.
///
/// The ``principal`` comes from the host's own authentication (a session, a verified bearer token);
/// the handler never reads a user id from the path, the query or the body.
public struct APIRequest: Sendable {
    /// The method, such as `GET`; compared case-sensitively, as RFC 9110 says.
    public var method: String
    /// The path without the query, not percent-decoded, such as `/api/v1/exports/abc`.
    public var path: String
    /// The query items, percent-decoded.
    public var query: [URLQueryItem]
    /// The header fields in order; names are compared case-insensitively.
    public var headers: [(name: String, value: String)]
    /// The body (empty when there is none).
    public var body: [UInt8]
    /// The authenticated user, or `nil` when the request is not authenticated.
    public var principal: UserID?

    /// Creates a request.
    ///
    /// - Parameters:
    ///   - method: The method, such as `POST`.
    ///   - path: The path without the query.
    ///   - query: The query items.
    ///   - headers: The header fields.
    ///   - body: The body bytes.
    ///   - principal: The authenticated user, or `nil`.
    public init(
        method: String,
        path: String,
        query: [URLQueryItem] = [],
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        principal: UserID?
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.principal = principal
    }

    /// The first value of a header field.
    ///
    /// - Parameters:
    ///   - name: The field name, in any case.
    /// - Returns: The value, or `nil` when the field is absent.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}
