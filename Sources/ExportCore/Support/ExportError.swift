import Foundation

/// The one error type of MembershipExport.
///
/// Every failure the library reports is an `ExportError` with a ``Code``, a human-readable message, an
/// optional underlying cause, and whether retrying the same operation may succeed. Adapters map their
/// own failures (HTTP statuses, service error codes, `errno`) onto these codes so the pipeline can
/// decide between retrying and giving up without knowing which adapter is in use.
public struct ExportError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. A struct over a private enum, so new codes can be added later
    /// without breaking `switch` statements in host code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String, Sendable {
            case invalidRequest, unsupportedFormat, unknownColumn, invalidRecipient
            case notFound, alreadyExists, versionConflict, illegalTransition
            case rateLimited, leaseLost, cancelled
            case invalidKey, corruptData, encoding, unavailable, throttled, timeout
            case storageFull, permissionDenied, io, unauthorized, permanent, transient
            case configuration, unsupportedVersion, invalidSchedule, rangeNotSupported, unsupported
        }
        fileprivate let value: Value

        /// The request was malformed in a way not covered by a more specific code.
        public static let invalidRequest = Code(value: .invalidRequest)
        /// The requested export format is not supported by this build.
        public static let unsupportedFormat = Code(value: .unsupportedFormat)
        /// A requested column is not a known standard or configured extra column.
        public static let unknownColumn = Code(value: .unknownColumn)
        /// The recipient e-mail address is not a valid address.
        public static let invalidRecipient = Code(value: .invalidRecipient)
        /// The job, message, blob or record does not exist (or belongs to someone else).
        public static let notFound = Code(value: .notFound)
        /// A record with the same identity already exists with different content.
        public static let alreadyExists = Code(value: .alreadyExists)
        /// A compare-and-swap update lost the race: the stored version moved on.
        public static let versionConflict = Code(value: .versionConflict)
        /// The job lifecycle rejected an event that is not legal in the current state.
        public static let illegalTransition = Code(value: .illegalTransition)
        /// The owner asked for exports too often; see ``ExportError/retryAt``.
        public static let rateLimited = Code(value: .rateLimited)
        /// The caller's queue lease ran out or the receipt is stale; another consumer may own the message.
        public static let leaseLost = Code(value: .leaseLost)
        /// The export was cancelled while it ran.
        public static let cancelled = Code(value: .cancelled)
        /// A blob key is not acceptable (it could escape the storage root, or is empty or too long).
        public static let invalidKey = Code(value: .invalidKey)
        /// Stored data could not be decoded; it was reported and set aside.
        public static let corruptData = Code(value: .corruptData)
        /// A value cannot be represented in the chosen output format.
        public static let encoding = Code(value: .encoding)
        /// A dependency is unreachable or answered with a server error.
        public static let unavailable = Code(value: .unavailable)
        /// A dependency asked us to slow down.
        public static let throttled = Code(value: .throttled)
        /// An operation did not finish in time.
        public static let timeout = Code(value: .timeout)
        /// The disk or bucket is full.
        public static let storageFull = Code(value: .storageFull)
        /// The process may not read or write where it was asked to.
        public static let permissionDenied = Code(value: .permissionDenied)
        /// Some other input/output failure.
        public static let io = Code(value: .io)
        /// Credentials were rejected.
        public static let unauthorized = Code(value: .unauthorized)
        /// A failure that will not go away by retrying, not covered by a more specific code.
        public static let permanent = Code(value: .permanent)
        /// A failure that may go away by retrying, not covered by a more specific code.
        public static let transient = Code(value: .transient)
        /// A schedule is malformed: a cron expression, an interval, a time zone or an end that cannot be
        /// used. The message names the field.
        public static let invalidSchedule = Code(value: .invalidSchedule)
        /// The export asked for a time range and the membership source cannot filter by one.
        public static let rangeNotSupported = Code(value: .rangeNotSupported)
        /// The library was configured inconsistently.
        public static let configuration = Code(value: .configuration)
        /// The adapter does not offer an optional capability of its port (such as
        /// ``JobStore/jobs(matching:after:limit:)`` on a store that cannot list across owners). Not
        /// retryable: the answer does not change by waiting.
        public static let unsupported = Code(value: .unsupported)
        /// A stored record was written by a newer version of the library (it holds a value this version
        /// does not know, such as a new job state). It is left as it is, never treated as corrupt.
        public static let unsupportedVersion = Code(value: .unsupportedVersion)

        /// The code's stable name, such as `versionConflict`.
        public var description: String { value.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence for a person: what failed and, where it helps, what to do.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error)?
    /// Whether retrying the same operation later may succeed.
    public var isRetryable: Bool
    /// For ``Code/rateLimited`` and ``Code/throttled``: the earliest moment a retry can succeed.
    public var retryAt: Date?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: A sentence for a person.
    ///   - cause: The underlying error, if any.
    ///   - isRetryable: Whether retrying may succeed; defaults to the code's usual answer.
    ///   - retryAt: The earliest moment a retry can succeed, if known.
    public init(
        _ code: Code,
        _ message: String,
        cause: (any Error)? = nil,
        isRetryable: Bool? = nil,
        retryAt: Date? = nil
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.isRetryable = isRetryable ?? code.isRetryableByDefault
        self.retryAt = retryAt
    }

    /// A short, bounded label fit for a metric dimension or a log key, such as `export.versionConflict`.
    public var shortDescription: String { "export.\(code)" }

    /// The code, the message and, when present, the cause.
    public var description: String {
        var text = "\(code): \(message)"
        if let cause { text += " (cause: \(cause))" }
        return text
    }
}

extension ExportError.Code {
    /// Whether errors with this code are retryable unless stated otherwise.
    public var isRetryableByDefault: Bool {
        switch value {
        case .unavailable, .throttled, .timeout, .transient, .io, .versionConflict, .leaseLost, .storageFull:
            true
        default:
            false
        }
    }
}

extension ExportError.Code {
    /// Whether errors with this code are environmental faults that heal by waiting or by an
    /// operator's fix elsewhere (a full disk, an unreachable, throttling or slow service), rather than
    /// something wrong with the export: ``unavailable``, ``throttled``, ``timeout``, ``storageFull``
    /// and ``rateLimited``. The retry policy gives them a budget of hours (``RetryPolicy/environmentalBudget``).
    public var isEnvironmental: Bool {
        switch value {
        case .unavailable, .throttled, .timeout, .storageFull, .rateLimited: true
        default: false
        }
    }
}

extension ExportError {
    /// Whether `error` is a retryable environmental fault (see ``ExportError/Code/isEnvironmental``).
    ///
    /// - Parameters:
    ///   - error: Any error.
    /// - Returns: `true` only for a retryable ``ExportError`` with an environmental code.
    public static func isEnvironmental(_ error: any Error) -> Bool {
        guard let exportError = error as? ExportError else { return false }
        return exportError.code.isEnvironmental && isRetryable(exportError)
    }

    /// Whether `error` should be retried: an ``ExportError`` says so itself; cancellation is never
    /// retried; any other error is treated as transient, because an unknown failure in a worker is
    /// more often a hiccup than a bug, and the retry budget bounds the cost of being wrong.
    ///
    /// - Parameters:
    ///   - error: Any error thrown by a port or by the export itself.
    /// - Returns: `true` when a later attempt may succeed.
    public static func isRetryable(_ error: any Error) -> Bool {
        if let error = error as? ExportError { return error.isRetryable }
        if error is CancellationError { return false }
        return true
    }

    /// Wraps any error as an ``ExportError``, keeping an existing one as it is.
    ///
    /// - Parameters:
    ///   - error: The error to wrap.
    ///   - code: The code to use when `error` is not already an ``ExportError``.
    /// - Returns: An ``ExportError`` describing `error`.
    public static func wrapping(_ error: any Error, as code: Code = .transient) -> ExportError {
        if let error = error as? ExportError { return error }
        return ExportError(code, String(describing: error), cause: error)
    }
}
