import Foundation

extension OutputBuffer {
    /// Appends a whole number in decimal ASCII (after ``makeUnique()``).
    @inline(__always)
    mutating func appendInteger(_ value: Int64) {
        let out = reserveAssumingUnique(20)
        var magnitude = value.magnitude
        var length = 0
        if value < 0 {
            out[0] = UInt8(ascii: "-")
            length = 1
        }
        length += Self.writeDigits(of: &magnitude, minimumDigits: 1, to: out + length)
        count += length
    }

    /// Appends an exact decimal in its canonical form (`-12.50`, `0.05`, `42`), never through floating
    /// point (after ``makeUnique()``). Any scale works, including one set above 18 through the public
    /// `scale` property.
    @inline(__always)
    mutating func appendDecimal(_ value: ExactDecimal) {
        let scale = Int(value.scale)
        // Sign, "0.", up to 255 zeros, 20 digits.
        let out = reserveAssumingUnique(scale + 24)
        var length = 0
        if value.units < 0 {
            out[0] = UInt8(ascii: "-")
            length = 1
        }
        var magnitude = value.units.magnitude
        guard scale > 0 else {
            length += Self.writeDigits(of: &magnitude, minimumDigits: 1, to: out + length)
            count += length
            return
        }
        // All digits, at least scale + 1 of them, then the fraction shifted one place right for the point.
        let digits = Self.writeDigits(of: &magnitude, minimumDigits: scale + 1, to: out + length)
        let whole = digits - scale
        let fraction = out + length + whole
        UnsafeMutableRawPointer(fraction + 1).copyMemory(from: fraction, byteCount: scale)
        fraction[0] = UInt8(ascii: ".")
        count += length + digits + 1
    }

    /// Appends a date as ISO-8601 UTC (see ``ISO8601``), after ``makeUnique()``.
    ///
    /// - Returns: `false` (appending nothing) when the year is outside 0000…9999 or the date is not finite.
    @inline(__always)
    mutating func appendDate(_ date: Date) -> Bool {
        guard let length = ISO8601.write(date, to: reserveAssumingUnique(ISO8601.maximumLength)) else { return false }
        count += length
        return true
    }

    /// Writes the decimal digits of `value`, left-padded with zeros to `minimumDigits`.
    @inline(__always)
    private static func writeDigits(of value: inout UInt64, minimumDigits: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var digits = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        digits = max(digits, minimumDigits)
        var index = digits - 1
        while index >= 0 {
            let next = value / 10
            out[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value - next * 10)
            value = next
            index -= 1
        }
        return digits
    }
}
