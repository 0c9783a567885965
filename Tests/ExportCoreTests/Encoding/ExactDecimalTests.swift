import Testing

@testable import ExportCore

@Suite("Exact decimals")
struct ExactDecimalTests {
    static let vectors: [(Int64, UInt8, String)] = [
        (0, 0, "0"), (0, 2, "0.00"), (1999, 2, "19.99"), (-1999, 2, "-19.99"), (5, 2, "0.05"), (-5, 2, "-0.05"),
        (42, 0, "42"), (-42, 0, "-42"), (1, 18, "0.000000000000000001"), (-1, 18, "-0.000000000000000001"),
        (Int64.max, 0, "9223372036854775807"), (Int64.min, 0, "-9223372036854775808"),
        (Int64.min, 18, "-9.223372036854775808"), (Int64.max, 4, "922337203685477.5807"),
        (100, 2, "1.00"), (-100, 1, "-10.0"),
    ]

    @Test("formats canonically, through the encoders' buffer and through description", arguments: vectors)
    func formatting(_ units: Int64, _ scale: UInt8, _ expected: String) {
        let decimal = ExactDecimal(units: units, scale: scale)
        var buffer = OutputBuffer()
        buffer.makeUnique()
        buffer.appendDecimal(decimal)
        #expect(String(decoding: buffer.bytes, as: UTF8.self) == expected)
        #expect(decimal.description == expected)
    }

    @Test("parses what it formats", arguments: vectors)
    func parsingRoundTrip(_ units: Int64, _ scale: UInt8, _ text: String) {
        #expect(ExactDecimal(text) == ExactDecimal(units: units, scale: scale))
    }

    @Test("parses signs and optional parts")
    func parsing() {
        #expect(ExactDecimal("+1.5") == ExactDecimal(units: 15, scale: 1))
        #expect(ExactDecimal(".5") == ExactDecimal(units: 5, scale: 1))
        #expect(ExactDecimal("7.") == ExactDecimal(units: 7, scale: 0))
        #expect(ExactDecimal("-0") == ExactDecimal(units: 0, scale: 0))
    }

    @Test("rejects what is not a plain decimal", arguments: [
        "", "-", "+", ".", "1.2.3", "1e5", "1,5", " 1", "1 ", "--1", "1-", "0x10", "١٢", "9223372036854775808",
        "0.0000000000000000001",
    ])
    func rejects(_ text: String) {
        #expect(ExactDecimal(text) == nil)
    }

    @Test("compares by value across scales")
    func comparison() {
        #expect(ExactDecimal(units: 150, scale: 2) < ExactDecimal(units: 16, scale: 1))
        #expect(!(ExactDecimal(units: 150, scale: 2) < ExactDecimal(units: 15, scale: 1)))
        #expect(ExactDecimal(units: -1, scale: 0) < ExactDecimal(units: 0, scale: 18))
    }

    @Test("integers are formatted by hand", arguments: [Int64.min, -1, 0, 7, 10, 99, 100, Int64.max])
    func integers(_ value: Int64) {
        var buffer = OutputBuffer()
        buffer.makeUnique()
        buffer.appendInteger(value)
        #expect(String(decoding: buffer.bytes, as: UTF8.self) == String(value))
    }

    @Test("a scale set above 18 through the property is still formatted exactly")
    func largeScale() {
        var decimal = ExactDecimal(units: -5, scale: 0)
        decimal.scale = 30
        #expect(decimal.description == "-0.000000000000000000000000000005")
        decimal.units = Int64.max
        #expect(decimal.description == "0.000000000009223372036854775807")
        var buffer = OutputBuffer()
        buffer.makeUnique()
        var tiny = ExactDecimal(units: 1, scale: 0)
        tiny.scale = 255
        buffer.appendDecimal(tiny)
        #expect(buffer.count == 257)
        #expect(buffer.bytes.last == UInt8(ascii: "1") && buffer.bytes.prefix(2) == [UInt8(ascii: "0"), UInt8(ascii: ".")])
    }
}
