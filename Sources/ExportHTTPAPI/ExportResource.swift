import ExportCore
import Foundation

/// The JSON form of an export job (`#/components/schemas/Export` in `Docs/openapi.yaml`).
struct ExportResource: Encodable, Sendable {
    struct Progress: Encodable, Sendable {
        var rowsWritten: Int64
    }

    struct Result: Encodable, Sendable {
        var rows: Int64
        var bytes: Int64
        var sha256: String
        var format: String
        var expiresAt: Date
        var downloadUrl: String
    }

    struct Failure: Encodable, Sendable {
        var code: String
        var reason: String

        /// The failure as a user may see it. The stored ``ExportFailure/reason`` is the error's message,
        /// which can carry an upstream service's response text, host names, paths or keys, so it is
        /// never shown: the reason is a fixed sentence chosen by the error code. The code is a fixed
        /// identifier (an ``ExportError/Code`` name) and is passed on when it looks like one.
        init(userSafe failure: ExportFailure) {
            let isIdentifier = (1...40).contains(failure.code.utf8.count)
                && failure.code.utf8.allSatisfy { ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") }
            code = isIdentifier ? failure.code : "internal"
            reason = Self.reason(forCode: code)
        }

        /// The user-facing sentence for an error code; a generic one for codes not listed.
        static func reason(forCode code: String) -> String {
            switch code {
            case "unavailable", "throttled", "timeout", "transient", "leaseLost", "attemptsExhausted":
                "A service the export needs was unavailable. Request a new export later."
            case "storageFull", "io", "permissionDenied":
                "The export file could not be stored. Request a new export later."
            case "corruptData", "encoding", "invalidKey":
                "Some of your data could not be exported. Contact support if this persists."
            case "cancelled":
                "The export was cancelled."
            default:
                "The export could not be completed. Contact support if this persists."
            }
        }
    }

    struct Links: Encodable, Sendable {
        var `self`: String
        var download: String?
    }

    var id: String
    var state: String
    var format: String
    var columns: [String]?
    var attempt: Int
    var cancelRequested: Bool
    var progress: Progress
    var createdAt: Date
    var updatedAt: Date
    var expiresAt: Date?
    var expired: Bool
    var nextAttemptAt: Date?
    var result: Result?
    var failure: Failure?
    var links: Links

    init(_ job: ExportJob, basePath: String) {
        let location = "\(basePath)/exports/\(job.id.rawValue)"
        // An expired export (a tombstone the Reconciler keeps so the owner hears 410) has no file to link.
        let download = job.state == .succeeded && job.result != nil && job.expiredAt == nil ? location + "/download" : nil
        id = job.id.rawValue
        state = job.state.rawValue
        format = job.options.format.identifier
        columns = job.options.columns?.map(\.name)
        attempt = job.attempt
        cancelRequested = job.lifecycle.cancelRequested
        progress = Progress(rowsWritten: job.rowsWritten)
        createdAt = job.createdAt
        updatedAt = job.updatedAt
        // A tombstone's `expiresAt` is when its record goes; the user cares when the file went.
        expiresAt = job.expiredAt ?? job.expiresAt
        expired = job.expiredAt != nil
        nextAttemptAt = job.state == .retryScheduled ? job.lifecycle.nextAttemptAt : nil
        result = job.result.map { result in
            Result(
                rows: result.rows, bytes: result.bytes, sha256: result.sha256, format: result.format.identifier,
                expiresAt: job.expiredAt ?? job.expiresAt ?? result.linkExpiresAt, downloadUrl: download ?? location + "/download")
        }
        failure = job.failure.map(Failure.init(userSafe:))
        links = Links(self: location, download: download)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(state, forKey: .state)
        try container.encode(format, forKey: .format)
        try container.encode(columns, forKey: .columns)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(cancelRequested, forKey: .cancelRequested)
        try container.encode(progress, forKey: .progress)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(expiresAt, forKey: .expiresAt)  // explicit null: the field is always present
        try container.encode(expired, forKey: .expired)
        try container.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try container.encode(result, forKey: .result)
        try container.encode(failure, forKey: .failure)
        try container.encode(links, forKey: .links)
    }

    enum CodingKeys: String, CodingKey {
        case id, state, format, columns, attempt, cancelRequested, progress, createdAt, updatedAt, expiresAt, expired,
            nextAttemptAt, result, failure, links
    }
}

/// One page of `GET /exports` (`#/components/schemas/ExportList`).
struct ExportListResource: Encodable, Sendable {
    var items: [ExportResource]
    var nextCursor: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }

    enum CodingKeys: String, CodingKey { case items, nextCursor }
}
