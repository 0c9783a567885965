import ExportCore
import Foundation

/// The JSON and problem+json responses of both handlers (`ExportAPIHandler`, `ExportAdminHandler`):
/// sorted keys, RFC 3339 dates in whole seconds, `Cache-Control: no-store`.
enum ResponseWriter {
    /// A JSON response, or a 500 problem when `value` cannot be encoded.
    static func json(_ status: Int, _ value: some Encodable, problemTypeBase: String) -> APIResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = RFC3339.encodingStrategy(fractionDigits: 0)
        guard let data = try? encoder.encode(value) else {
            // Our resources are plain values: an encoding failure is a bug, answered as one.
            return problem(.internalError, "the response could not be encoded", field: nil, problemTypeBase: problemTypeBase)
        }
        let bytes = [UInt8](data)
        return APIResponse(
            status: status,
            headers: [("Content-Type", "application/json"), ("Content-Length", String(bytes.count)), ("Cache-Control", "no-store")],
            body: .bytes(bytes))
    }

    /// A problem+json response; `field` names the offending field in `invalid-params`.
    static func problem(_ kind: ProblemKind, _ detail: String, field: String?, problemTypeBase: String) -> APIResponse {
        let document = Problem(
            type: problemTypeBase + kind.slug, title: kind.title, status: kind.status, detail: detail,
            invalidParams: field.map { [Problem.InvalidParam(name: $0, reason: detail)] })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A document of strings and integers always encodes; "{}" only keeps the signature total.
        let bytes = (try? encoder.encode(document)).map { [UInt8]($0) } ?? Array("{}".utf8)
        return APIResponse(
            status: kind.status,
            headers: [("Content-Type", "application/problem+json"), ("Content-Length", String(bytes.count)), ("Cache-Control", "no-store")],
            body: .bytes(bytes))
    }
}
