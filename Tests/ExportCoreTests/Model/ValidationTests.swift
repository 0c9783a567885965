import ExportCore
import Foundation
import Testing

@Suite("Validated identifiers")
struct ValidationTests {
    @Test("blob keys cannot escape their root", arguments: [
        "", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", ".", "..", "a\\b", "a\0b", "a b",
        "%2e%2e/x", "caf\u{E9}/x", "a/\u{2025}/b", String(repeating: "a", count: 600), "x/" + String(repeating: "b", count: 129),
    ])
    func badKeys(key: String) {
        #expect(BlobKey(key) == nil)
        #expect(throws: ExportError.self) { try BlobKey(validating: key) }
    }

    @Test("ordinary keys are accepted", arguments: ["exports/job.csv", "a", "A-Z_0.9/x.csv.gz", "..a/b..", "a/.hidden"])
    func goodKeys(key: String) throws {
        #expect(try BlobKey(validating: key).rawValue == key)
    }

    @Test("job ids: 1 to 64 of A-Z a-z 0-9 - _")
    func jobIDs() {
        #expect(JobID("abc-DEF_123") != nil)
        #expect(JobID("") == nil)
        #expect(JobID("../x") == nil)
        #expect(JobID("a b") == nil)
        #expect(JobID(String(repeating: "a", count: 65)) == nil)
        var generator = SplitMix64(seed: 5)
        let id = JobID.random(using: &generator)
        #expect(id.rawValue.count == 36)
        #expect(JobID(id.rawValue) == id)
        var again = SplitMix64(seed: 5)
        #expect(JobID.random(using: &again) == id)
    }

    /// Returns fixed words in turn, so a random id's text can be checked exactly.
    private struct FixedWords: RandomNumberGenerator {
        var words: [UInt64]
        mutating func next() -> UInt64 { words.removeFirst() }
    }

    @Test("random job ids are lower-case version 4 UUIDs of two 64-bit draws")
    func randomJobIDText() {
        var fixed = FixedWords(words: [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210])
        #expect(JobID.random(using: &fixed).rawValue == "01234567-89ab-4def-bedc-ba9876543210")
        #expect(fixed.words.isEmpty)
        var zeros = FixedWords(words: [0, 0])
        #expect(JobID.random(using: &zeros).rawValue == "00000000-0000-4000-8000-000000000000")
        var ones = FixedWords(words: [.max, .max])
        #expect(JobID.random(using: &ones).rawValue == "ffffffff-ffff-4fff-bfff-ffffffffffff")
        var seen = Set<String>()
        for _ in 0..<1_000 {
            let id = JobID.random().rawValue
            let uuid = UUID(uuidString: id)
            #expect(uuid?.uuidString.lowercased() == id)
            #expect(Array(id.utf8)[14] == UInt8(ascii: "4"))
            #expect("89ab".utf8.contains(Array(id.utf8)[19]))
            seen.insert(id)
        }
        #expect(seen.count == 1_000)
    }

    @Test("e-mail addresses", arguments: [
        ("ada@example.com", true), ("first.last+tag@sub.example.co.uk", true), ("o'brien@example.ie", true),
        ("", false), ("plain", false), ("@example.com", false), ("a@b", false), ("a@@example.com", false),
        ("a b@example.com", false), ("a@example.com\r\nBcc: x@evil.com", false), (".a@example.com", false),
        ("a..b@example.com", false), ("a@-example.com", false), ("a@example..com", false),
        ("\"quoted\"@example.com", false), (String(repeating: "a", count: 65) + "@example.com", false),
    ])
    func emails(address: String, valid: Bool) {
        #expect((EmailAddress(address) != nil) == valid)
    }

    @Test("exact decimals parse and print without binary floating point", arguments: [
        ("0", "0"), ("12.50", "12.50"), ("-0.05", "-0.05"), ("+3", "3"), (".5", "0.5"), ("19.99", "19.99"),
        ("-123456789012345.678", "-123456789012345.678"), ("9223372036854775807", "9223372036854775807"),
    ])
    func decimals(text: String, printed: String) throws {
        let value = try #require(ExactDecimal(text))
        #expect(value.description == printed)
        let json = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(ExactDecimal.self, from: json) == value)
    }

    @Test("malformed decimals are rejected", arguments: ["", "-", "1.2.3", "1e5", "abc", "9223372036854775808", "1,5", "0.1234567890123456789"])
    func badDecimals(text: String) {
        #expect(ExactDecimal(text) == nil)
    }

    @Test("decimals compare by value across scales")
    func decimalOrder() throws {
        #expect(try #require(ExactDecimal("1.5")) < #require(ExactDecimal("1.50001")))
        #expect(try #require(ExactDecimal("-2")) < #require(ExactDecimal("1.0")))
    }

    @Test("columns decode from names: standard fields, else attributes")
    func columns() throws {
        #expect(ExportColumn(named: "plan") == .plan)
        #expect(ExportColumn(named: "seats") == .attribute("seats"))
        let decoded = try JSONDecoder().decode([ExportColumn].self, from: Data(#"["membership_id","seats"]"#.utf8))
        #expect(decoded == [.membershipID, .attribute("seats")])
    }

    @Test("formats know their content type and extension")
    func formats() {
        #expect(ExportFormat(identifier: "csv") == .csv)
        #expect(ExportFormat(identifier: "csv.gz")?.fileExtension == "csv.gz")
        #expect(ExportFormat(identifier: "jsonl")?.contentType == "application/jsonl")
        #expect(ExportFormat(identifier: "xlsx") == nil)
    }
}
