/// Finds the few bytes that force a CSV field to be quoted (or a JSON string to be escaped), eight
/// bytes at a time.
@usableFromInline
enum CSVScanner {
    // Computed, not stored: inlined into another module, a stored `static let` would be read through
    // its lazy-initialisation accessor on every field.
    @inlinable static var ones: UInt64 { 0x0101_0101_0101_0101 }
    @inlinable static var highs: UInt64 { 0x8080_8080_8080_8080 }

    /// Whether `bytes` contain the delimiter, `"`, CR, LF or NUL.
    @inlinable @inline(__always)
    static func needsQuoting(_ bytes: UnsafeBufferPointer<UInt8>, delimiter: UInt8) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let delimiters = ones &* UInt64(delimiter)
        let quotes = ones &* 0x22
        var offset = 0
        let count = bytes.count
        while offset + 8 <= count {
            let word = UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)
            // A flagged word may hold only a tab or another harmless control byte: check its eight bytes
            // exactly, then go on eight at a time (a long field with a tab near the start stays fast).
            if suspicious(word, delimiters: delimiters, quotes: quotes) && exactScan(base + offset, count: 8, delimiter: delimiter) {
                return true
            }
            offset += 8
        }
        guard offset < count else { return false }
        // The tail: overlapping loads, so no byte outside the buffer is read and no copy is needed.
        let word: UInt64
        if count >= 8 {
            word = UnsafeRawPointer(base + count - 8).loadUnaligned(as: UInt64.self)
        } else if count >= 4 {
            let low = UnsafeRawPointer(base).loadUnaligned(as: UInt32.self)
            let high = UnsafeRawPointer(base + count - 4).loadUnaligned(as: UInt32.self)
            word = UInt64(low) | UInt64(high) << 32
        } else {
            return exactScan(base, count: count, delimiter: delimiter)
        }
        guard suspicious(word, delimiters: delimiters, quotes: quotes) else { return false }
        return exactScan(base + offset, count: count - offset, delimiter: delimiter)
    }

    /// Copies `count` bytes; short runs (names, ids) without a call into libc.
    @inlinable @inline(__always)
    static func copy(_ source: UnsafePointer<UInt8>, count: Int, to target: UnsafeMutablePointer<UInt8>) {
        let from = UnsafeRawPointer(source)
        let to = UnsafeMutableRawPointer(target)
        if count > 16 {
            to.copyMemory(from: from, byteCount: count)
        } else if count >= 8 {
            let head = from.loadUnaligned(as: UInt64.self)
            let tail = from.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            to.storeBytes(of: head, as: UInt64.self)
            to.storeBytes(of: tail, toByteOffset: count - 8, as: UInt64.self)
        } else if count >= 4 {
            let head = from.loadUnaligned(as: UInt32.self)
            let tail = from.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
            to.storeBytes(of: head, as: UInt32.self)
            to.storeBytes(of: tail, toByteOffset: count - 4, as: UInt32.self)
        } else {
            var index = 0
            while index < count {
                target[index] = source[index]
                index += 1
            }
        }
    }

    /// Whether the word has a byte below 0x20, a delimiter or a quote (exact for the last two, the
    /// first also catches tab and other controls, which ``exactScan(_:count:delimiter:)`` then clears).
    @inlinable @inline(__always)
    static func suspicious(_ word: UInt64, delimiters: UInt64, quotes: UInt64) -> Bool {
        let control = (word &- ones &* 0x20) & ~word & highs
        let delimiter = word ^ delimiters
        let quote = word ^ quotes
        let zeroDelimiter = (delimiter &- ones) & ~delimiter & highs
        let zeroQuote = (quote &- ones) & ~quote & highs
        return (control | zeroDelimiter | zeroQuote) != 0
    }

    @inlinable @inline(__always)
    static func exactScan(_ start: UnsafePointer<UInt8>, count: Int, delimiter: UInt8) -> Bool {
        var index = 0
        while index < count {
            let byte = start[index]
            if byte == delimiter || byte == 0x22 || byte == 0x0A || byte == 0x0D || byte == 0 { return true }
            index += 1
        }
        return false
    }

    /// Whether `bytes` contain anything a JSON string must escape (U+0000…U+001F, `"`, `\`) or the
    /// lead byte 0xE2 of U+2028/U+2029, which the JSON encoder escapes too.
    @inline(__always)
    static func needsJSONEscaping(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let count = bytes.count
        var offset = 0
        while offset + 8 <= count {
            if jsonSuspicious(UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)) { return true }
            offset += 8
        }
        guard offset < count else { return false }
        if count >= 8 { return jsonSuspicious(UnsafeRawPointer(base + count - 8).loadUnaligned(as: UInt64.self)) }
        var index = 0
        while index < count {
            let byte = base[index]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0xE2 { return true }
            index += 1
        }
        return false
    }

    /// Exact: whether the word has a byte below 0x20, `"`, `\` or 0xE2.
    @inline(__always)
    private static func jsonSuspicious(_ word: UInt64) -> Bool {
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let e2 = word ^ (ones &* 0xE2)
        let zeroQuote = (quote &- ones) & ~quote & highs
        let zeroBackslash = (backslash &- ones) & ~backslash & highs
        let zeroE2 = (e2 &- ones) & ~e2 & highs
        return (control | zeroQuote | zeroBackslash | zeroE2) != 0
    }
}
