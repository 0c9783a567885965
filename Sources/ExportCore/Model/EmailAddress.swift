/// A syntactically valid e-mail address (the RFC 5322 `dot-atom` form that real mailboxes use).
///
/// Validation is deliberately strict about what could do harm in a mail header: no whitespace, no
/// control characters, no CR or LF, no quoted local parts, at most 254 bytes.
public struct EmailAddress: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The address as text.
    public let rawValue: String

    /// Validates an address.
    ///
    /// - Parameters:
    ///   - rawValue: The candidate address, such as `ada@example.com`.
    /// - Returns: `nil` when it is not a plain `local@domain` address with a dotted domain.
    public init?(_ rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Validates an address, throwing for one that is not valid.
    ///
    /// - Parameters:
    ///   - rawValue: The candidate address.
    /// - Throws: ``ExportError/Code/invalidRecipient`` when it is not a plain `local@domain` address.
    public init(validating rawValue: String) throws(ExportError) {
        guard let address = EmailAddress(rawValue) else {
            throw ExportError(.invalidRecipient, "\(String(reflecting: String(rawValue.prefix(80)))) is not a valid e-mail address")
        }
        self = address
    }

    /// The address.
    public var description: String { rawValue }

    private static let localSpecials = Set("!#$%&'*+/=?^_`{|}~-.".utf8)

    private static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return false }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard (1...64).contains(local.count), (3...253).contains(domain.count) else { return false }
        guard local.first != UInt8(ascii: "."), local.last != UInt8(ascii: "."),
            !zip(local, local.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") })
        else { return false }
        guard local.allSatisfy({ isAlphanumeric($0) || localSpecials.contains($0) }) else { return false }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: false
        }
    }

    /// Decodes and validates an address.
    ///
    /// - Parameters:
    ///   - decoder: The decoder to read from.
    /// - Throws: A decoding error when the text is not a valid address.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let address = EmailAddress(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an e-mail address")
        }
        self = address
    }

    /// Encodes the address as text.
    ///
    /// - Parameters:
    ///   - encoder: The encoder to write to.
    /// - Throws: An encoding error from `encoder`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
