import ExportCore
import Foundation

extension ExportAPIHandler {
    /// A JSON response with sorted keys and RFC 3339 dates (whole seconds, UTC).
    func json(_ status: Int, _ value: some Encodable) -> APIResponse {
        ResponseWriter.json(status, value, problemTypeBase: configuration.problemTypeBase)
    }

    /// A problem+json response; `field` names the offending field in `invalid-params`.
    func problem(_ kind: ProblemKind, _ detail: String, field: String? = nil) -> APIResponse {
        ResponseWriter.problem(kind, detail, field: field, problemTypeBase: configuration.problemTypeBase)
    }

    /// Maps an error the routes did not handle themselves. Messages of server-side failures are not
    /// shown: they may name internal hosts, paths or keys.
    func problem(for error: ExportError) -> APIResponse {
        switch error.code {
        case .notFound:
            return problem(.notFound, "no such export")
        case .rateLimited:
            var response = problem(.rateLimited, "too many exports; try again later")
            response.headers.append(("Retry-After", String(retryAfterSeconds(error.retryAt))))
            return response
        default:
            guard error.isRetryable else { return problem(.internalError, "the request could not be completed") }
            var response = problem(.unavailable, "a dependency is unavailable; try again later")
            if let retryAt = error.retryAt { response.headers.append(("Retry-After", String(retryAfterSeconds(retryAt)))) }
            return response
        }
    }

    /// Whole seconds from now until `date`, rounded up, at least 1.
    func retryAfterSeconds(_ date: Date?) -> Int {
        guard let date else { return 1 }
        let seconds = date.timeIntervalSince(clock.now()).rounded(.up)
        guard seconds.isFinite, seconds >= 1 else { return 1 }
        return seconds > 86_400 * 365 ? 86_400 * 365 : Int(seconds)
    }
}
