import ExportCore
import Foundation
import Testing

@Suite("CSV encoder")
struct CSVEncoderTests {
    static func row(
        id: String = "m-1", name: String = "Acme", status: String = "active", started: Double = 1_700_000_000,
        ended: Double? = nil, amount: ExactDecimal? = nil, currency: String? = nil, attributes: [String: String] = [:]
    ) -> Membership {
        Membership(
            membershipID: id, userID: "u-1", organizationID: "o-1", organizationName: name, plan: "pro", role: "admin",
            status: status, startedAt: Date(timeIntervalSince1970: started), endedAt: ended.map { Date(timeIntervalSince1970: $0) },
            amount: amount, currency: currency, attributes: attributes)
    }

    static func csv(_ columns: [ExportColumn], _ rows: [Membership], _ options: CSVOptions = CSVOptions()) throws -> String {
        var encoder = try CSVEncoder(columns: columns, options: options)
        var bytes: [UInt8] = []
        try encoder.writeHeader(into: &bytes)
        for (index, row) in rows.enumerated() { try encoder.write(row, rowNumber: Int64(index + 1), into: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("writes header and typed values, quoting only what needs it")
    func basics() throws {
        let columns: [ExportColumn] = [.membershipID, .organizationName, .startedAt, .endedAt, .amount, .currency]
        let text = try Self.csv(columns, [
            Self.row(name: "Zoë, \"the\" best", ended: 1_700_000_000.5, amount: ExactDecimal(units: -1250, scale: 2), currency: "EUR"),
            Self.row(id: "m-2", name: "line\nbreak"),
        ])
        #expect(text == """
            membership_id,organization_name,started_at,ended_at,amount,currency\r
            m-1,"Zoë, ""the"" best",2023-11-14T22:13:20Z,2023-11-14T22:13:20.500Z,-12.50,EUR\r
            m-2,"line
            break",2023-11-14T22:13:20Z,,,\r

            """)
    }

    @Test("LF line endings, a byte-order mark, no header, another delimiter")
    func dialect() throws {
        let options = CSVOptions(delimiter: UInt8(ascii: ";"), lineEnding: .lf, byteOrderMark: true, includeHeader: false)
        let text = try Self.csv([.membershipID, .organizationName], [Self.row(name: "a;b"), Self.row(name: "a,b")], options)
        #expect(Array(text.utf8.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(text == "\u{FEFF}m-1;\"a;b\"\nm-1;a,b\n")
    }

    @Test("quoting all quotes every value but leaves missing values empty")
    func quoteAll() throws {
        let text = try Self.csv(
            [.membershipID, .endedAt, .amount, .startedAt], [Self.row(amount: ExactDecimal(units: 5, scale: 2))],
            CSVOptions(quoting: .all))
        #expect(text == "\"membership_id\",\"ended_at\",\"amount\",\"started_at\"\r\n\"m-1\",,\"0.05\",\"2023-11-14T22:13:20Z\"\r\n")
    }

    @Test("empty text is \"\" and a missing value is empty; a single column's missing value is \"\" too")
    func emptyVersusMissing() throws {
        let text = try Self.csv([.attribute("a"), .attribute("b")], [Self.row(attributes: ["a": ""])])
        #expect(text == "a,b\r\n\"\",\r\n")
        let single = try Self.csv([.currency], [Self.row(currency: nil), Self.row(currency: "")])
        #expect(single == "currency\r\n\"\"\r\n\"\"\r\n")
    }

    @Test("formula triggers in text cells get an apostrophe; typed numbers never do", arguments: [
        ("=1+2", "\"'=1+2\""), ("+1", "\"'+1\""), ("-5", "\"'-5\""), ("@SUM(A1)", "\"'@SUM(A1)\""), ("\tx", "\"'\tx\""),
        ("\rx", "\"'\rx\""), ("=\"a\",b", "\"'=\"\"a\"\",b\""), ("a=1", "a=1"), (" =1", " =1"), ("'x", "'x"),
    ])
    func neutralisation(_ value: String, _ expected: String) throws {
        let text = try Self.csv([.status, .amount], [Self.row(status: value, amount: ExactDecimal(units: -5, scale: 0))])
        #expect(text == "status,amount\r\n\(expected),-5\r\n")
    }

    @Test("with neutralisation off, formula-like text is written as it is", arguments: [
        ("=1+2", "=1+2"), ("-5", "-5"), ("\rx", "\"\rx\""), ("=\"a\",b", "\"=\"\"a\"\",b\""),
    ])
    func neutralisationOff(_ value: String, _ expected: String) throws {
        let text = try Self.csv([.status], [Self.row(status: value)], CSVOptions(neutralizeFormulas: false))
        #expect(text == "status\r\n\(expected)\r\n")
    }

    @Test("header names are neutralised and quoted like cells")
    func header() throws {
        let text = try Self.csv([.attribute("=cmd"), .attribute("a,b")], [])
        #expect(text == "\"'=cmd\",\"a,b\"\r\n")
    }

    @Test("text with NUL is an encoding error naming row and column; nothing of that row is emitted")
    func nulIsRefused() throws {
        var chunks = ChunkedEncoder(try CSVEncoder(columns: [.membershipID, .attribute("note")]))
        try chunks.write(Self.row(attributes: ["note": "fine"]))
        let error = try #require(throws: ExportError.self) { try chunks.write(Self.row(attributes: ["note": "a\u{0}b"])) }
        #expect(error.code == .encoding)
        #expect(error.message.contains("row 2") && error.message.contains("\"note\"") && error.message.contains("NUL"))
        #expect(!error.isRetryable)
        #expect(chunks.rowCount == 1)
        let rest = try chunks.finish().joined()
        #expect(String(decoding: rest, as: UTF8.self) == "membership_id,note\r\nm-1,fine\r\n")
    }

    @Test("a date outside 0000…9999 is an encoding error naming row and column")
    func dateOutOfRange() throws {
        var encoder = try CSVEncoder(columns: [.membershipID, .endedAt])
        var bytes: [UInt8] = []
        let error = try #require(throws: ExportError.self) {
            try encoder.write(Self.row(ended: 1e15), rowNumber: 7, into: &bytes)
        }
        #expect(error.code == .encoding)
        #expect(error.message.contains("row 7") && error.message.contains("\"ended_at\""))
    }

    @Test("delimiters that typed values or the syntax use are a configuration error", arguments: Array("\"\r\n-+.:0aTZe".utf8) + [0, 0xC3, 0x7F])
    func badDelimiter(_ delimiter: UInt8) {
        let error = #expect(throws: ExportError.self) { try CSVEncoder(columns: [.membershipID], options: CSVOptions(delimiter: delimiter)) }
        #expect(error?.code == .configuration)
    }

    @Test("punctuation, space and tab are fine delimiters", arguments: Array(",;|\t '!#$%&()*/<=>?@[\\]^_`{}~".utf8))
    func goodDelimiter(_ delimiter: UInt8) throws {
        _ = try CSVEncoder(columns: [.membershipID], options: CSVOptions(delimiter: delimiter))
    }

    @Test("every standard field is encoded as ExportColumn.value(in:) says")
    func fieldsMatchTheModel() throws {
        let row = Membership(
            membershipID: "m", userID: "u", organizationID: "o", organizationName: "n", plan: "p", role: "r", status: "s",
            startedAt: Date(timeIntervalSince1970: 1), endedAt: Date(timeIntervalSince1970: 2), renewsAt: Date(timeIntervalSince1970: 3),
            amount: ExactDecimal(units: 4, scale: 1), currency: "c", attributes: ["x": "y"])
        let sparse = Membership(
            membershipID: "m", userID: "u", organizationID: "o", organizationName: "n", plan: "p", role: "r", status: "s",
            startedAt: Date(timeIntervalSince1970: 1))
        for column in ExportColumn.standard + [.attribute("x")] {
            for sample in [row, sparse] {
                let reference: String
                switch column.value(in: sample) {
                case .text(let text): reference = text
                case .date(let date): reference = ISO8601DateFormatter().string(from: date)
                case .decimal(let decimal): reference = decimal.description
                case .null: reference = "\"\""  // a single column's missing value
                case .integer(let number): reference = String(number)
                case .bool(let flag): reference = String(flag)
                }
                let text = try Self.csv([column], [sample], CSVOptions(includeHeader: false))
                #expect(text == reference + "\r\n", "column \(column.name)")
            }
        }
    }

    @Test("typed cells written directly: integers, booleans, missing trailing cells")
    func cells() throws {
        let encoder = try CSVEncoder(columns: [.attribute("n"), .attribute("b"), .attribute("d"), .attribute("z")])
        var buffer = OutputBuffer()
        try encoder.write(cells: [.integer(-42), .bool(true), .decimal(ExactDecimal(units: 1, scale: 3))], rowNumber: 1, into: &buffer)
        #expect(String(decoding: buffer.bytes, as: UTF8.self) == "-42,true,0.001,\r\n")
    }

    @Test("attribute columns find their value whether the row has few attributes or many", arguments: [0, 1, 7, 8, 9, 50])
    func attributes(_ extra: Int) throws {
        var attributes = ["wanted": "yes", "other": "no"]
        for index in 0..<extra { attributes["extra-\(index)"] = "\(index)" }
        let text = try Self.csv([.attribute("wanted"), .attribute("missing"), .attribute("extra-0")], [Self.row(attributes: attributes)])
        #expect(text == "wanted,missing,extra-0\r\nyes,,\(extra > 0 ? "0" : "")\r\n")
    }
}

@Suite("CSV options")
struct CSVOptionsTests {
    @Test("quoting modes and line endings encode as the strings the enums did, and unknown names are refused")
    func codable() throws {
        let options = CSVOptions(quoting: .all, lineEnding: .lf)
        let json = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        #expect(json.contains(#""quoting":"all""#) && json.contains(#""lineEnding":"lf""#))
        #expect(try JSONDecoder().decode(CSVOptions.self, from: Data(json.utf8)) == options)
        let defaults = String(decoding: try JSONEncoder().encode(CSVOptions()), as: UTF8.self)
        #expect(defaults.contains(#""quoting":"minimal""#) && defaults.contains(#""lineEnding":"crlf""#))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(CSVOptions.Quoting.self, from: Data(#""sometimes""#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(CSVOptions.LineEnding.self, from: Data(#""cr""#.utf8))
        }
        #expect(CSVOptions.Quoting(rawValue: "all") == .all && CSVOptions.Quoting(rawValue: "none") == nil)
        #expect(CSVOptions.LineEnding(rawValue: "crlf") == .crlf && CSVOptions.LineEnding(rawValue: "") == nil)
        #expect("\(CSVOptions.Quoting.minimal) \(CSVOptions.LineEnding.lf)" == "minimal lf")
    }
}
