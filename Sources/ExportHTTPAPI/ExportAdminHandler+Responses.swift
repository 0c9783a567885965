import ExportCore
import Foundation

extension ExportAdminHandler {
    /// A JSON response with sorted keys and RFC 3339 dates (whole seconds, UTC).
    func json(_ status: Int, _ value: some Encodable) -> APIResponse {
        ResponseWriter.json(status, value, problemTypeBase: configuration.problemTypeBase)
    }

    /// A problem+json response; `field` names the offending field in `invalid-params`.
    func problem(_ kind: ProblemKind, _ detail: String, field: String? = nil) -> APIResponse {
        ResponseWriter.problem(kind, detail, field: field, problemTypeBase: configuration.problemTypeBase)
    }

    /// An operator may read error messages (they are the host's own logs' sentences), so they are shown
    /// for refusals; failures of the ports answer with a fixed sentence like the user API.
    func problem(for error: ExportError) -> APIResponse {
        switch error.code {
        case .notFound: return problem(.notFound, error.message)
        case .unsupported: return problem(.notSupported, error.message)
        case .illegalTransition: return problem(.notFailed, error.message)
        default:
            guard error.isRetryable else { return problem(.internalError, "the request could not be completed") }
            return problem(.unavailable, "a dependency is unavailable; try again later")
        }
    }
}

/// The optional body of `POST /workers/pause` and `/resume`: `{"reason": "…"}`, nothing else.
struct WorkerSwitchBody {
    var reason: String?

    struct Refusal: Error {
        var reason: String
        var field: String
    }

    static func parse(_ bytes: [UInt8]) -> Result<WorkerSwitchBody, Refusal> {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            return .failure(Refusal(reason: "the body must be a JSON object", field: "body"))
        }
        if let unknown = object.keys.sorted().first(where: { $0 != "reason" }) {
            return .failure(Refusal(reason: "unknown member \(String(reflecting: String(unknown.prefix(64))))", field: String(unknown.prefix(64))))
        }
        switch object["reason"] {
        case nil, is NSNull:
            return .success(WorkerSwitchBody(reason: nil))
        case let text as String where (1...500).contains(text.count):
            return .success(WorkerSwitchBody(reason: text))
        default:
            return .failure(Refusal(reason: "reason must be a string of 1 to 500 characters", field: "reason"))
        }
    }
}
