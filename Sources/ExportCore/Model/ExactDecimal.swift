/// An exact decimal number for money: an integer count of units of `10^-scale`.
///
/// `ExactDecimal(units: 1999, scale: 2)` is 19.99. No binary floating point is involved anywhere, so
/// amounts are written exactly as the host stored them. It is also cheap to format, which matters when
/// millions of rows are encoded.
public struct ExactDecimal: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The value in units of `10^-scale`.
    public var units: Int64
    /// The number of digits after the decimal point, 0 to 18.
    public var scale: UInt8

    /// Creates a decimal from units and a scale.
    ///
    /// - Parameters:
    ///   - units: The value in units of `10^-scale`.
    ///   - scale: The number of fraction digits, 0 to 18 (larger values are clamped to 18).
    public init(units: Int64, scale: UInt8) {
        self.units = units
        self.scale = min(scale, 18)
    }

    /// Parses text such as `-12.50`, `0.5` or `42`.
    ///
    /// - Parameters:
    ///   - text: An optional sign, digits, and an optional `.` followed by at most 18 digits.
    /// - Returns: `nil` when the text is not such a number or does not fit in 64 bits.
    public init?(_ text: some StringProtocol) {
        var units: Int64 = 0
        var scale: UInt8 = 0
        var seenDigit = false
        var seenPoint = false
        var negative = false
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where index == 0: negative = true
            case UInt8(ascii: "+") where index == 0: continue
            case UInt8(ascii: ".") where !seenPoint: seenPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                seenDigit = true
                if seenPoint {
                    guard scale < 18 else { return nil }
                    scale += 1
                }
                // Accumulate with the sign applied, so Int64.min (which has no positive twin) parses.
                let digit = Int64(byte - UInt8(ascii: "0"))
                let (times10, overflow1) = units.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                units = sum
            default:
                return nil
            }
        }
        guard seenDigit else { return nil }
        self.init(units: units, scale: scale)
    }

    /// The canonical text: `-` for negatives, at least one integer digit, exactly `scale` fraction digits.
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendASCII(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the canonical text to a byte buffer without allocating a string.
    ///
    /// - Parameters:
    ///   - bytes: The buffer to append ASCII digits to.
    public func appendASCII(to bytes: inout [UInt8]) {
        // Shares the encoders' formatter, which also copes with a `scale` set above 18 directly.
        var buffer = OutputBuffer(minimumCapacity: 64)
        buffer.makeUnique()
        buffer.appendDecimal(self)
        buffer.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// Compares two decimals by value, whatever their scales.
    ///
    /// - Parameters:
    ///   - lhs: One value.
    ///   - rhs: Another value.
    /// - Returns: Whether `lhs` is smaller.
    public static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        let scale = max(lhs.scale, rhs.scale)
        let left = lhs.rescaled(to: scale)
        let right = rhs.rescaled(to: scale)
        if let left, let right { return left < right }
        return Double(lhs.units) / pow10(lhs.scale) < Double(rhs.units) / pow10(rhs.scale)
    }

    private func rescaled(to newScale: UInt8) -> Int64? {
        var value = units
        for _ in scale..<newScale {
            let (next, overflow) = value.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            value = next
        }
        return value
    }

    private static func pow10(_ exponent: UInt8) -> Double {
        var result = 1.0
        for _ in 0..<exponent { result *= 10 }
        return result
    }

    /// Decodes from its canonical text (a JSON string), so no precision is lost on the way.
    ///
    /// - Parameters:
    ///   - decoder: The decoder to read from.
    /// - Throws: A decoding error when the text is not a decimal.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = ExactDecimal(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a decimal: \(text.prefix(40))")
        }
        self = value
    }

    /// Encodes as its canonical text.
    ///
    /// - Parameters:
    ///   - encoder: The encoder to write to.
    /// - Throws: An encoding error from `encoder`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
