import ExportCore
import Foundation

/// Maps HTTP statuses and service error codes to `ExportError` with the right retryability.
///
/// Throttling, timeouts and server errors are retryable; access denied, bad credentials, validation
/// errors and missing resources are permanent. Service codes win over the status when known, because
/// AWS reports throttling as 400 and some permanent failures as 5xx-free 4xx codes.
public enum HTTPErrorMapping {
    /// The error for a failed response.
    ///
    /// - Parameters:
    ///   - status: The HTTP status.
    ///   - serviceCode: The service's error code (`SlowDown`, `ValidationException`…), if any.
    ///   - message: The service's message, if any.
    ///   - operation: What was being done, for the message.
    ///   - retryAfter: The `Retry-After` header, if any (seconds or an HTTP date).
    ///   - now: The current time, to turn `Retry-After` into `ExportError.retryAt`.
    /// - Returns: The mapped error.
    public static func error(
        status: Int,
        serviceCode: String?,
        message: String?,
        operation: String,
        retryAfter: String? = nil,
        now: Date = Date()
    ) -> ExportError {
        let code = serviceCode.map(shortCode) ?? ""
        let detail = [code.isEmpty ? nil : code, message.flatMap { $0.isEmpty ? nil : String($0.prefix(300)) }]
            .compactMap { $0 }.joined(separator: ": ")
        let text = "\(operation) failed with HTTP \(status)" + (detail.isEmpty ? "" : " (\(detail))")
        let retryAt = retryAfter.flatMap { retryDate($0, now: now) }
        let mapped = mappedCode(status: status, serviceCode: code)
        return ExportError(mapped, text, retryAt: retryAt)
    }

    /// Turns a `Retry-After` value (delta seconds or an HTTP date) into a moment.
    ///
    /// - Parameters:
    ///   - value: The header value.
    ///   - now: The current time.
    /// - Returns: The moment, or `nil` when the value is unreadable.
    public static func retryDate(_ value: String, now: Date) -> Date? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds.isFinite, seconds >= 0 {
            return now.addingTimeInterval(min(seconds, 86_400))
        }
        return HTTPDate.parse(trimmed)
    }

    /// `com.amazonaws.sqs#QueueDoesNotExist`, `QueueDoesNotExist;Sender` and
    /// `AWS.SimpleQueueService.MessageNotInflight;Sender` (SQS's `x-amzn-query-error`) become the bare
    /// code (`QueueDoesNotExist`, `MessageNotInflight`).
    static func shortCode(_ raw: String) -> String {
        var code = Substring(raw)
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        if let colon = code.firstIndex(where: { $0 == ":" || $0 == ";" }) { code = code[..<colon] }
        let sqsPrefix = "AWS.SimpleQueueService."
        if code.hasPrefix(sqsPrefix) { code = code.dropFirst(sqsPrefix.count) }
        return String(code)
    }

    static func mappedCode(status: Int, serviceCode code: String) -> ExportError.Code {
        switch code {
        case "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
             "RequestThrottledException", "SlowDown", "TooManyRequestsException",
             "ProvisionedThroughputExceededException", "RequestLimitExceeded", "LimitExceededException",
             "TransactionInProgressException", "RequestThrottledError", "PriorRequestNotComplete",
             "OverLimit", "KmsThrottled", "KMS.ThrottlingException":
            return .throttled
        case "RequestTimeout", "RequestTimeoutException", "TimeoutError":
            return .timeout
        case "InternalError", "InternalFailure", "InternalServerError", "ServiceUnavailable",
             "ServiceUnavailableException", "InternalServiceError", "OperationAborted":
            return .unavailable
        case "AccessDenied", "AccessDeniedException", "AllAccessDisabled", "AccountProblem",
             "AuthorizationError", "KMS.AccessDeniedException":
            return .permissionDenied
        case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId",
             "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException", "IncompleteSignature",
             "IncompleteSignatureException", "MissingAuthenticationToken", "InvalidToken",
             "AuthFailure", "InvalidSignatureException", "RequestExpired", "RequestTimeTooSkewed":
            return .unauthorized
        case "NoSuchKey", "NoSuchBucket", "NoSuchUpload", "NotFound", "ResourceNotFoundException",
             "QueueDoesNotExist", "NonExistentQueue",
             "NotFoundException", "TableNotFoundException":
            return .notFound
        case "ReceiptHandleIsInvalid", "InvalidReceiptHandle", "MessageNotInflight":
            return .leaseLost
        case "ConditionalCheckFailedException", "TransactionConflictException", "TransactionCanceledException":
            return .versionConflict
        case "ResourceInUseException", "BucketAlreadyExists", "BucketAlreadyOwnedByYou", "QueueAlreadyExists",
             "QueueNameExists", "AlreadyExistsException":
            return .alreadyExists
        case "ValidationException", "ValidationError", "InvalidParameterValue", "InvalidParameterValueException",
             "InvalidArgument", "MalformedXML", "SerializationException", "EntityTooSmall", "EntityTooLarge",
             "InvalidPart", "InvalidPartOrder", "InvalidRequest", "InvalidParameterCombination",
             "MissingParameter", "InvalidAttributeName", "InvalidAttributeValue", "MessageRejected",
             "MailFromDomainNotVerifiedException", "BadRequestException", "InvalidRange",
             "ItemCollectionSizeLimitExceededException", "InvalidBucketName", "KeyTooLongError",
             "UnsupportedOperation", "InvalidAction", "InvalidQueryParameter", "MalformedQueryString":
            return .invalidRequest
        default:
            return mappedCode(status: status)
        }
    }

    /// The code for a status when no service code is known.
    ///
    /// - Parameters:
    ///   - status: The HTTP status.
    /// - Returns: The code: 429 throttled, 408/504 timeout, 5xx unavailable, 401 unauthorized,
    ///   403 permission denied, 404/410 not found, other 4xx (409 and 412 included) invalid request.
    ///
    /// A bare 409 or 412 from a webhook receiver or a memberships API is permanent like any other 4xx:
    /// only a service that says what it means is a version conflict (DynamoDB's
    /// `ConditionalCheckFailedException` and transaction conflicts, mapped from the service code).
    public static func mappedCode(status: Int) -> ExportError.Code {
        switch status {
        case 429: .throttled
        case 408, 504: .timeout
        case 500...599: .unavailable
        case 401: .unauthorized
        case 403: .permissionDenied
        case 404, 410: .notFound
        case 400...499: .invalidRequest
        default: .transient
        }
    }
}
