/// An RFC 9457 problem document, as every error response carries it.
struct Problem: Encodable, Sendable {
    /// One field that failed validation (the `invalid-params` extension member of RFC 9457 §3).
    struct InvalidParam: Encodable, Sendable, Hashable {
        var name: String
        var reason: String
    }

    var type: String
    var title: String
    var status: Int
    var detail: String
    var invalidParams: [InvalidParam]?

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail
        case invalidParams = "invalid-params"
    }
}

/// The problems the API can answer with: a slug (appended to the type base), a title and a status.
struct ProblemKind: Sendable {
    let slug: String
    let title: String
    let status: Int

    static let unauthenticated = ProblemKind(slug: "unauthenticated", title: "Authentication required", status: 401)
    static let notFound = ProblemKind(slug: "not-found", title: "Not found", status: 404)
    static let methodNotAllowed = ProblemKind(slug: "method-not-allowed", title: "Method not allowed", status: 405)
    static let invalidBody = ProblemKind(slug: "invalid-body", title: "The request body is invalid", status: 400)
    static let invalidQuery = ProblemKind(slug: "invalid-query", title: "A query parameter is invalid", status: 400)
    static let invalidHeader = ProblemKind(slug: "invalid-header", title: "A header field is invalid", status: 400)
    static let unsupportedFormat = ProblemKind(slug: "unsupported-format", title: "The format is not supported", status: 400)
    static let unknownColumn = ProblemKind(slug: "unknown-column", title: "A column is unknown", status: 400)
    static let unsupportedMediaType = ProblemKind(slug: "unsupported-media-type", title: "Send application/json", status: 415)
    static let bodyTooLarge = ProblemKind(slug: "body-too-large", title: "The request body is too large", status: 413)
    static let invalidSchedule = ProblemKind(slug: "invalid-schedule", title: "The schedule is invalid", status: 400)
    static let tooManySchedules = ProblemKind(slug: "too-many-schedules", title: "Too many schedules", status: 429)
    static let rateLimited = ProblemKind(slug: "rate-limited", title: "Too many exports", status: 429)
    static let invalidRecipient = ProblemKind(
        slug: "invalid-recipient", title: "The account has no usable e-mail address", status: 422)
    static let notReady = ProblemKind(slug: "not-ready", title: "The export has no file", status: 409)
    static let expired = ProblemKind(slug: "expired", title: "The export has expired", status: 410)
    static let badSignature = ProblemKind(slug: "bad-signature", title: "The download link is not valid", status: 403)
    static let linkExpired = ProblemKind(slug: "link-expired", title: "The download link has expired", status: 410)
    static let notFailed = ProblemKind(slug: "not-failed", title: "The export has not failed", status: 409)
    static let notSupported = ProblemKind(slug: "not-supported", title: "This backend does not offer it", status: 501)
    static let unavailable = ProblemKind(slug: "unavailable", title: "Try again later", status: 503)
    static let internalError = ProblemKind(slug: "internal-error", title: "Internal error", status: 500)
}
