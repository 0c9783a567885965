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
        length &+= Self.writeDigits(of: &magnitude, minimumDigits: 1, to: out + length)
        count &+= length
    }

    /// Appends an exact decimal in its canonical form (`-12.50`, `0.05`, `42`), never through floating
    /// point (after ``makeUnique()``). Any scale works, including one set above 18 through the public
    /// `scale` property.
    @inline(__always)
    mutating func appendDecimal(_ value: ExactDecimal) {
        let scale = Int(value.scale)
        var magnitude = value.units.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        // Sign, at least one whole digit, the point and exactly `scale` fraction digits.
        let sign = value.units < 0 ? 1 : 0
        let shown = max(digits, scale + 1)
        let length = sign + shown + (scale > 0 ? 1 : 0)
        let out = reserveAssumingUnique(length)
        if sign == 1 { out[0] = UInt8(ascii: "-") }
        var index = length - 1
        var fractionLeft = scale
        while index >= sign {
            if scale > 0 && fractionLeft == 0 {
                out[index] = UInt8(ascii: ".")
                fractionLeft = -1
            } else {
                let next = magnitude / 10
                out[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude &- next &* 10)
                magnitude = next
                fractionLeft -= 1
            }
            index -= 1
        }
        count &+= length
    }

    /// Appends a date as RFC 3339 UTC with milliseconds, left out when zero (see ``RFC3339``), after
    /// ``makeUnique()``.
    ///
    /// - Returns: `false` (appending nothing) when the year is outside 0000…9999 or the date is not finite.
    @inline(__always)
    mutating func appendDate(_ date: Date) -> Bool {
        guard let length = RFC3339.write(date, fractionDigits: 3, omittingZeroFraction: true, to: reserveAssumingUnique(RFC3339.maximumLength))
        else { return false }
        count &+= length
        return true
    }

    /// Writes the decimal digits of `value`, left-padded with zeros to `minimumDigits`.
    @inlinable @inline(__always)
    static func writeDigits(of value: inout UInt64, minimumDigits: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
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
