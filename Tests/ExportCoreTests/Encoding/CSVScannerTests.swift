import Testing

@testable import ExportCore

@Suite("Byte scanners (eight bytes at a time)")
struct CSVScannerTests {
    static func naiveCSV(_ bytes: [UInt8], delimiter: UInt8) -> Bool {
        bytes.contains { $0 == delimiter || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D || $0 == 0 }
    }

    static func naiveJSON(_ bytes: [UInt8]) -> Bool {
        bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0xE2 }
    }

    @Test("every special byte is found at every position of short and long fields", arguments: [
        UInt8(ascii: ","), UInt8(ascii: ";"), 0x09, UInt8(ascii: "|"),
    ])
    func everyPosition(_ delimiter: UInt8) {
        for length in 1...40 {
            for position in 0..<length {
                for special: UInt8 in [delimiter, 0x22, 0x0A, 0x0D, 0, 0x5C, 0xE2, 0x1F, 0x09, 0x80, 0xFF] {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = special
                    bytes.withUnsafeBufferPointer { buffer in
                        #expect(CSVScanner.needsQuoting(buffer, delimiter: delimiter) == Self.naiveCSV(bytes, delimiter: delimiter))
                        #expect(CSVScanner.needsJSONEscaping(buffer) == Self.naiveJSON(bytes))
                    }
                }
            }
        }
    }

    @Test("a harmless control byte early in a field does not hide a special byte later", arguments: [
        UInt8(ascii: ","), 0x09,
    ])
    func flaggedWordThenSpecial(_ delimiter: UInt8) {
        // Tab, 0x01 and 0x1F make the eight-byte test flag their word although they need no quoting
        // (tab does when it is the delimiter); the scan must check that word and go on to the rest.
        var wrong: [[UInt8]] = []
        for length in 2...48 {
            for early in 0..<length {
                for harmless: UInt8 in [0x09, 0x01, 0x1F] {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[early] = harmless
                    if !Self.agrees(bytes, delimiter) { wrong.append(bytes) }
                    for late in (early + 1)..<length {
                        for special: UInt8 in [delimiter, 0x22, 0x0A, 0x0D, 0] {
                            var marked = bytes
                            marked[late] = special
                            if !Self.agrees(marked, delimiter) { wrong.append(marked) }
                        }
                    }
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) fields scanned wrongly, first: \(wrong.prefix(3))")
        // A 1 MiB field with tabs spread through it and a quote at the very end.
        var long = [UInt8](repeating: UInt8(ascii: "b"), count: 1 << 20)
        for index in stride(from: 3, to: long.count, by: 4099) { long[index] = 0x09 }
        let tabIsDelimiter = delimiter == 0x09
        long.withUnsafeBufferPointer { #expect(CSVScanner.needsQuoting($0, delimiter: delimiter) == tabIsDelimiter) }
        long[long.count - 1] = 0x22
        long.withUnsafeBufferPointer { #expect(CSVScanner.needsQuoting($0, delimiter: delimiter)) }
    }

    static func agrees(_ bytes: [UInt8], _ delimiter: UInt8) -> Bool {
        bytes.withUnsafeBufferPointer { CSVScanner.needsQuoting($0, delimiter: delimiter) } == naiveCSV(bytes, delimiter: delimiter)
    }

    @Test("agrees with a byte-by-byte scan on random bytes")
    func randomBytes() {
        var random = SplitMix64(seed: 42)
        for _ in 0..<20_000 {
            let length = Int(random.next() % 33)
            // Mostly harmless bytes, so that both answers occur often.
            let bytes = (0..<length).map { _ -> UInt8 in
                let value = UInt8(truncatingIfNeeded: random.next())
                return random.next() % 24 == 0 ? value : (0x30 + value % 0x40)
            }
            bytes.withUnsafeBufferPointer { buffer in
                #expect(CSVScanner.needsQuoting(buffer, delimiter: UInt8(ascii: ",")) == Self.naiveCSV(bytes, delimiter: UInt8(ascii: ",")))
                #expect(CSVScanner.needsJSONEscaping(buffer) == Self.naiveJSON(bytes))
            }
        }
    }

    @Test("short copies are exact for every length")
    func copies() {
        let source = (0..<64).map { UInt8($0 + 1) }
        for length in 0...40 {
            var target = [UInt8](repeating: 0, count: 48)
            source.withUnsafeBufferPointer { from in
                target.withUnsafeMutableBufferPointer { to in
                    CSVScanner.copy(from.baseAddress!, count: length, to: to.baseAddress! + 3)
                }
            }
            #expect(Array(target[3..<(3 + length)]) == Array(source[0..<length]))
            #expect(target[0..<3].allSatisfy { $0 == 0 } && target[(3 + length)...].allSatisfy { $0 == 0 })
        }
    }
}
