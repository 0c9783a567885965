import ExportCore
import Foundation

/// Parses membership files for ``FileMembershipSource``; every error names the line.
enum MembershipFileParser {
    static let requiredColumns: [ExportColumn.Field] = [
        .membershipID, .userID, .organizationID, .organizationName, .plan, .role, .status, .startedAt,
    ]

    // MARK: CSV

    /// Parses RFC 4180 CSV with a header row.
    static func parseCSV(_ input: [UInt8]) throws(ExportError) -> [(line: Int, row: Membership)] {
        var bytes = input[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let records = try splitRecords(bytes)
        guard let header = records.first else {
            throw ExportError(.invalidRequest, "line 1: the membership CSV file is empty; it needs a header row")
        }
        var fieldIndex: [ExportColumn.Field: Int] = [:]
        var attributeIndex: [(String, Int)] = []
        var seen: Set<String> = []
        for (index, name) in header.fields.enumerated() {
            guard seen.insert(name).inserted else {
                throw ExportError(.invalidRequest, "line \(header.line): the column \(name.prefix(80)) appears twice in the header")
            }
            if let field = ExportColumn.Field(rawValue: name) { fieldIndex[field] = index } else { attributeIndex.append((name, index)) }
        }
        let missing = requiredColumns.filter { fieldIndex[$0] == nil }.map(\.rawValue)
        guard missing.isEmpty else {
            throw ExportError(.invalidRequest, "line \(header.line): the header lacks the column(s) \(missing.joined(separator: ", "))")
        }
        let dates = DateParser()
        var rows: [(line: Int, row: Membership)] = []
        for record in records.dropFirst() {
            if record.fields == [""] { continue }
            guard record.fields.count == header.fields.count else {
                throw ExportError(
                    .corruptData, "line \(record.line): expected \(header.fields.count) fields, found \(record.fields.count)",
                    isRetryable: false)
            }
            var attributes: [String: String] = [:]
            for (name, index) in attributeIndex where !record.fields[index].isEmpty { attributes[name] = record.fields[index] }
            let membership = try build(line: record.line, dates: dates, attributes: attributes) { field in
                guard let index = fieldIndex[field] else { return nil }
                let text = record.fields[index]
                return text.isEmpty ? nil : text
            }
            rows.append((record.line, membership))
        }
        return rows
    }

    /// Splits CSV into records of fields, each with the line it starts on.
    static func splitRecords(_ bytes: ArraySlice<UInt8>) throws(ExportError) -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var quotedField = false
        var index = bytes.startIndex
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            quotedField = false
        }
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if index < bytes.endIndex && bytes[index] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == 0x0A { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                guard field.isEmpty, !quotedField else {
                    throw ExportError(.corruptData, "line \(line): a quote inside an unquoted CSV field", isRetryable: false)
                }
                inQuotes = true
                quotedField = true
            case UInt8(ascii: ","):
                endField()
            case 0x0D where index < bytes.endIndex && bytes[index] == 0x0A:
                continue
            case 0x0A:
                endField()
                records.append((recordLine, fields))
                fields.removeAll()
                line += 1
                recordLine = line
            default:
                guard !quotedField else {
                    throw ExportError(.corruptData, "line \(line): text after a closing quote in a CSV field", isRetryable: false)
                }
                field.append(byte)
            }
        }
        if inQuotes {
            throw ExportError(.corruptData, "line \(recordLine): a quoted CSV field is never closed", isRetryable: false)
        }
        if !field.isEmpty || !fields.isEmpty || quotedField {
            endField()
            records.append((recordLine, fields))
        }
        return records
    }

    /// One row from its standard values (`nil` or empty for absent) and extra attributes; every error names the line.
    static func build(
        line: Int, dates: DateParser, attributes: [String: String], _ value: (ExportColumn.Field) -> String?
    ) throws(ExportError) -> Membership {
        func date(_ field: ExportColumn.Field) throws(ExportError) -> Date? {
            guard let text = value(field) else { return nil }
            guard let date = dates.parse(text) else {
                throw ExportError(.corruptData, "line \(line): \(field.rawValue) \(text.prefix(40)) is not an ISO-8601 date", isRetryable: false)
            }
            return date
        }
        guard let membershipID = value(.membershipID), let userID = value(.userID) else {
            throw ExportError(.corruptData, "line \(line): membership_id and user_id must not be empty", isRetryable: false)
        }
        guard let startedAt = try date(.startedAt) else {
            throw ExportError(.corruptData, "line \(line): started_at must not be empty", isRetryable: false)
        }
        var amount: ExactDecimal?
        if let text = value(.amount) {
            guard let parsed = ExactDecimal(text) else {
                throw ExportError(.corruptData, "line \(line): amount \(text.prefix(40)) is not a decimal", isRetryable: false)
            }
            amount = parsed
        }
        return Membership(
            membershipID: membershipID, userID: UserID(userID), organizationID: value(.organizationID) ?? "",
            organizationName: value(.organizationName) ?? "", plan: value(.plan) ?? "", role: value(.role) ?? "",
            status: value(.status) ?? "", startedAt: startedAt, endedAt: try date(.endedAt), renewsAt: try date(.renewsAt),
            amount: amount, currency: value(.currency), attributes: attributes)
    }

    // MARK: JSON Lines

    /// Parses one membership per non-blank line: an object as the JSON Lines export writes it
    /// (snake_case columns, extra columns as top-level keys), or a ``Membership`` in its `Codable` form.
    static func parseJSONLines(_ bytes: [UInt8]) throws(ExportError) -> [(line: Int, row: Membership)] {
        let decoder = JSONDecoder()
        let dates = DateParser()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) { return Date(timeIntervalSince1970: seconds) }
            let text = try container.decode(String.self)
            guard let date = dates.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO-8601 date: \(text.prefix(40))")
            }
            return date
        }
        let plain = JSONDecoder()
        var rows: [(line: Int, row: Membership)] = []
        for (offset, slice) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            var content = slice
            if content.last == 0x0D { content = content.dropLast() }
            if content.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            // The export's own shape first (snake_case columns, every value a string or null, extra
            // columns beside the standard ones), so an exported file reads back as it was written.
            if let object = try? plain.decode([String: String?].self, from: Data(content)), object["membership_id"] != nil {
                let values = object.compactMapValues { $0 }
                let standard = Set(ExportColumn.Field.allCases.map(\.rawValue))
                let attributes = values.filter { !standard.contains($0.key) && !$0.value.isEmpty }
                rows.append((line, try build(line: line, dates: dates, attributes: attributes) { field in
                    values[field.rawValue].flatMap { $0.isEmpty ? nil : $0 }
                }))
                continue
            }
            do {
                rows.append((line, try decoder.decode(Membership.self, from: Data(content))))
            } catch {
                // The cause keeps the decoder's details; the message says what a line must look like.
                throw ExportError(
                    .corruptData,
                    "line \(line): not a membership: expected a JSON object with the export's columns "
                        + "(membership_id, user_id, organization_id, organization_name, plan, role, status, started_at, …)",
                    cause: error, isRetryable: false)
            }
        }
        return rows
    }
}

/// ISO-8601 parsing: a fast path for UTC `YYYY-MM-DDTHH:MM:SS[.fff…]Z` (what the encoders write), and
/// Foundation's formatter (with and without fractional seconds) for anything else, such as offsets.
/// Used during init only, on one thread.
final class DateParser: @unchecked Sendable {
    private let plain = ISO8601DateFormatter()
    private let fractional: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()

    func parse(_ text: String) -> Date? {
        Self.parseUTC(text) ?? plain.date(from: text) ?? fractional.date(from: text)
    }

    /// The fast path; `nil` for any other shape.
    static func parseUTC(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"), bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19), (1...12).contains(month), (1...31).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction = 0.0
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count > 21, bytes.count - 21 <= 9, let digits = number(20..<(bytes.count - 1)) else {
                return nil
            }
            var scale = 1.0
            for _ in 20..<(bytes.count - 1) { scale *= 10 }
            fraction = Double(digits) / scale
        }
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second)
        return Date(timeIntervalSince1970: seconds + fraction)
    }
}
