extension Hex {
    /// Decodes the one canonical spelling of `byteCount` bytes: exactly `2 × byteCount` lower-case hex
    /// digits, as ``encode(_:)`` writes them.
    ///
    /// Signatures and MACs are compared in this form only, so a value has one accepted spelling
    /// (`ABCD…` and `abcd…` are not both valid).
    ///
    /// - Parameters:
    ///   - text: The hex text.
    ///   - byteCount: The exact number of bytes expected, such as 32 for HMAC-SHA256.
    /// - Returns: The bytes, or `nil` when the text is not exactly that many lower-case hex digit pairs.
    public static func decodeCanonical(_ text: String, byteCount: Int) -> [UInt8]? {
        let utf8 = text.utf8
        guard byteCount >= 0, utf8.count == byteCount * 2 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(byteCount)
        var high: UInt8?
        for byte in utf8 {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let first = high {
                out.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return out
    }
}
