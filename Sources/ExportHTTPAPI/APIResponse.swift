/// An HTTP response for the host's server to write.
public struct APIResponse: Sendable {
    /// The status code, such as 202.
    public var status: Int
    /// The header fields in order, including `Content-Type` and `Content-Length` where there is a body.
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: APIResponseBody

    /// Creates a response.
    ///
    /// - Parameters:
    ///   - status: The status code.
    ///   - headers: The header fields.
    ///   - body: The body; empty by default.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: APIResponseBody = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
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
