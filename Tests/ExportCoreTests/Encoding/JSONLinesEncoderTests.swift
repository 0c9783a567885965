import ExportCore
import Foundation
import Testing

@Suite("JSON Lines encoder")
struct JSONLinesEncoderTests {
    static func jsonl(_ columns: [ExportColumn], _ rows: [Membership]) throws -> String {
        var encoder = JSONLinesEncoder(columns: columns)
        var bytes: [UInt8] = []
        try encoder.writeHeader(into: &bytes)
        for (index, row) in rows.enumerated() { try encoder.write(row, rowNumber: Int64(index + 1), into: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("one object per line; decimals and dates are strings, missing values null")
    func basics() throws {
        let row = CSVEncoderTests.row(name: "Zoë", amount: ExactDecimal(units: 1999, scale: 2))
        let text = try Self.jsonl([.membershipID, .organizationName, .startedAt, .endedAt, .amount, .currency], [row, row])
        let line = #"{"membership_id":"m-1","organization_name":"Zoë","started_at":"2023-11-14T22:13:20Z","ended_at":null,"amount":"19.99","currency":null}"#
        #expect(text == line + "\n" + line + "\n")
    }

    @Test("strings are escaped per RFC 8259, and U+2028/U+2029 for JavaScript", arguments: [
        ("a\"b", #""a\"b""#), ("a\\b", #""a\\b""#), ("\n\r\t\u{8}\u{C}", #""\n\r\t\b\f""#), ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
        ("\u{7F}é🦊", "\"\u{7F}é🦊\""), ("\u{2028}x\u{2029}", #""\u2028x\u2029""#), ("\u{2027}\u{202A}", "\"\u{2027}\u{202A}\""), ("", #""""#),
    ])
    func escaping(_ value: String, _ expected: String) throws {
        let text = try Self.jsonl([.status], [CSVEncoderTests.row(status: value)])
        #expect(text == "{\"status\":\(expected)}\n")
        let decoded = try JSONSerialization.jsonObject(with: Data(text.utf8.dropLast())) as? [String: String]
        #expect(decoded?["status"] == value)
    }

    @Test("keys are escaped too, and no formula neutralisation applies")
    func keys() throws {
        let text = try Self.jsonl([.attribute("=a\"b"), .status], [CSVEncoderTests.row(status: "-5", attributes: ["=a\"b": "=1"])])
        #expect(text == #"{"=a\"b":"=1","status":"-5"}"# + "\n")
    }

    @Test("a date outside 0000…9999 is an encoding error naming row and column")
    func dateOutOfRange() throws {
        var encoder = JSONLinesEncoder(columns: [.endedAt])
        var bytes: [UInt8] = []
        let error = try #require(throws: ExportError.self) {
            try encoder.write(CSVEncoderTests.row(ended: -1e14), rowNumber: 3, into: &bytes)
        }
        #expect(error.code == .encoding && error.message.contains("row 3") && error.message.contains("\"ended_at\""))
    }
}
