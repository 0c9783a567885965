import ExportCore
import Foundation

/// The JSON document the container and instance metadata services answer with
/// (`AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`), and their shared HTTP plumbing.
enum AWSCredentialDocument {
    /// Parses a credentials document; errors never quote the body, which holds the secret.
    ///
    /// - Parameters:
    ///   - body: The response body.
    ///   - source: Who answered, for errors.
    /// - Returns: The credentials.
    /// - Throws: `ExportError.Code.corruptData` when the document is not one.
    static func parse(_ body: [UInt8], source: String) throws(ExportError) -> AWSCredentials {
        guard let document = try? JSONValue.parse(body) else {
            throw ExportError(.corruptData, "\(source) answered a body that is not JSON (\(body.count) bytes)")
        }
        if let code = document["Code"]?.stringValue, code != "Success" {
            throw ExportError(.unavailable, "\(source) answered Code \(code.prefix(64)): \(document["Message"]?.stringValue?.prefix(200) ?? "")")
        }
        guard let key = document["AccessKeyId"]?.stringValue, !key.isEmpty,
              let secret = document["SecretAccessKey"]?.stringValue, !secret.isEmpty
        else {
            throw ExportError(.corruptData, "\(source) answered JSON without AccessKeyId and SecretAccessKey")
        }
        var expiration: Date?
        if let text = document["Expiration"]?.stringValue {
            guard let date = try? RFC3339.parse(text) else {
                throw ExportError(.corruptData, "\(source) answered an Expiration that is not RFC 3339: \(text.prefix(40))")
            }
            expiration = date
        }
        let token = document["Token"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }

    /// The error of a non-2xx answer from a credentials endpoint; the body is not quoted.
    static func failure(_ response: TransportResponse, source: String, operation: String) -> ExportError {
        HTTPErrorMapping.error(
            status: response.status, serviceCode: nil, message: nil, operation: "\(source) \(operation)",
            retryAfter: response.header("retry-after"))
    }

    /// Whether an error means nothing answered (no such service on this network).
    static func isUnreachable(_ error: any Error) -> Bool {
        guard let error = error as? ExportError else { return false }
        return error.code == .timeout || error.code == .unavailable
    }
}
