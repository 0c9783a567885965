import Foundation

/// Sends HTTP requests: the seam between the adapters and the network, so tests can inject faults.
///
/// ## Implementation requirements
/// - Return every response, whatever its status; only failures to exchange (connection refused,
///   timeout, cancelled) throw.
/// - Throw `ExportError` with `ExportError.Code.timeout` when the request's timeout passes and
///   `ExportError.Code.unavailable` when the peer cannot be reached, both retryable.
public protocol HTTPTransport: Sendable {
    /// Sends one request and returns the response, whatever its status.
    ///
    /// - Parameters:
    ///   - request: The request.
    /// - Returns: The response.
    /// - Throws: `ExportError` when no response arrived.
    func send(_ request: TransportRequest) async throws -> TransportResponse
}
