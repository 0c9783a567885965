extension ExportFailure {
    /// The code as a user may see it: the stored ``code`` when it is a plain identifier (an
    /// ``ExportError/Code`` name such as `unavailable`), `internal` otherwise.
    public var userFacingCode: String {
        let isIdentifier = (1...40).contains(code.utf8.count)
            && code.utf8.allSatisfy { ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") }
        return isIdentifier ? code : "internal"
    }

    /// A fixed sentence for the user, chosen by the code.
    ///
    /// The stored ``reason`` is the error's message, which can carry an upstream service's response
    /// text, host names, paths or keys: it is for the host's logs (and the dead letter), never for the
    /// user. Status responses and "failed" notifications say this instead.
    public var userFacingReason: String { Self.userFacingReason(forCode: userFacingCode) }

    /// The user-facing sentence for an error code; a generic one for codes not listed.
    ///
    /// - Parameters:
    ///   - code: An ``ExportError/Code`` name.
    /// - Returns: The sentence.
    public static func userFacingReason(forCode code: String) -> String {
        switch code {
        case "unavailable", "throttled", "timeout", "transient", "leaseLost", "attemptsExhausted", "interruptionsExhausted":
            "A service the export needs was unavailable. Request a new export later."
        case "storageFull", "io", "permissionDenied":
            "The export file could not be stored. Request a new export later."
        case "corruptData", "encoding", "invalidKey":
            "Some of your data could not be exported. Contact support if this persists."
        case "cancelled":
            "The export was cancelled."
        case "rangeNotSupported":
            "Exports of a date range are not available here. Request an export without a range."
        default:
            "The export could not be completed. Contact support if this persists."
        }
    }
}
