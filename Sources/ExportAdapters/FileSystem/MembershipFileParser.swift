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
            let membership = try build(
                line: record.line, attributes: attributes,
                position: { field, error in
                    guard let index = fieldIndex[field] else { return "line \(record.line)" }
                    let start = record.starts[index]
                    return "line \(start.line), column \(start.column + error.column - 1)"
                }
            ) { field in
                guard let index = fieldIndex[field] else { return nil }
                let text = record.fields[index]
                return text.isEmpty ? nil : text
            }
            rows.append((record.line, membership))
        }
        return rows
    }

    /// One CSV record: the line it starts on, its fields, and where each field's text starts (the
    /// byte after an opening quote), so errors can name a column.
    typealias Record = (line: Int, fields: [String], starts: [(line: Int, column: Int)])

    /// Splits CSV into records of fields, each with the line it starts on.
    static func splitRecords(_ bytes: ArraySlice<UInt8>) throws(ExportError) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var starts: [(line: Int, column: Int)] = []
        var field: [UInt8] = []
        var line = 1
        var lineStart = bytes.startIndex
        var recordLine = 1
        var inQuotes = false
        var quotedField = false
        var index = bytes.startIndex
        var fieldStart = (line: 1, column: 1)
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            starts.append(fieldStart)
            field.removeAll(keepingCapacity: true)
            quotedField = false
            fieldStart = (line, index - lineStart + 1)
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
                    if byte == 0x0A {
                        line += 1
                        lineStart = index
                    }
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
                fieldStart = (line, index - lineStart + 1)
            case UInt8(ascii: ","):
                endField()
            case 0x0D where index < bytes.endIndex && bytes[index] == 0x0A:
                continue
            case 0x0A:
                line += 1
                lineStart = index
                endField()
                records.append((recordLine, fields, starts))
                fields.removeAll()
                starts.removeAll()
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
            records.append((recordLine, fields, starts))
        }
        return records
    }

    /// One row from its standard values (`nil` or empty for absent) and extra attributes; every error names the line.
    ///
    /// `position` says where a field's bad date is, such as `line 3, column 17`, for the error.
    static func build(
        line: Int, attributes: [String: String], position: (ExportColumn.Field, RFC3339.ParseError) -> String,
        _ value: (ExportColumn.Field) -> String?
    ) throws(ExportError) -> Membership {
        func date(_ field: ExportColumn.Field) throws(ExportError) -> Date? {
            guard let text = value(field) else { return nil }
            do throws(RFC3339.ParseError) {
                return try RFC3339.parse(text)
            } catch {
                throw ExportError(
                    .corruptData,
                    "\(position(field, error)): \(field.rawValue) \(text.prefix(40).debugDescription) is not an RFC 3339 date-time: \(error.reason)",
                    cause: error, isRetryable: false)
            }
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
    /// (snake_case columns, extra columns as top-level keys), or a `Membership` in its `Codable` form.
    /// Dates are RFC 3339 strings (see `RFC3339`) or, in the `Codable` form, numbers of seconds since 1970.
    static func parseJSONLines(_ bytes: [UInt8]) throws(ExportError) -> [(line: Int, row: Membership)] {
        let decoder = JSONDecoder()
        let lastDateError = DateErrorBox()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                guard seconds.isFinite else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "the date is not a finite number")
                }
                return Date(timeIntervalSince1970: seconds)
            }
            let text = try container.decode(String.self)
            do throws(RFC3339.ParseError) {
                return try RFC3339.parse(text)
            } catch {
                lastDateError.value = (text, error)
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "not an RFC 3339 date-time (\(error)): \(text.prefix(40).debugDescription)")
            }
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
                rows.append((line, try build(
                    line: line, attributes: attributes,
                    position: { field, error in
                        "line \(line), column \(Self.column(of: values[field.rawValue] ?? "", in: content, error: error))"
                    }
                ) { field in
                    values[field.rawValue].flatMap { $0.isEmpty ? nil : $0 }
                }))
                continue
            }
            lastDateError.value = nil
            do {
                rows.append((line, try decoder.decode(Membership.self, from: Data(content))))
            } catch {
                if let (text, dateError) = lastDateError.value {
                    let field = (error as? DecodingError).flatMap(Self.codingPath)?.last?.stringValue ?? "a date"
                    throw ExportError(
                        .corruptData,
                        "line \(line), column \(Self.column(of: text, in: content, error: dateError)): \(field) \(text.prefix(40).debugDescription) is not an RFC 3339 date-time: \(dateError.reason)",
                        cause: dateError, isRetryable: false)
                }
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

    private static func codingPath(_ error: DecodingError) -> [any CodingKey]? {
        switch error {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
            context.codingPath
        @unknown default:
            nil
        }
    }

    /// The 1-based byte column of a date error in a JSON line: where the JSON string holding `text`
    /// starts, plus the error's column in the text. A string written with escapes is not found as is;
    /// then the column is the error's within the value.
    static func column(of text: String, in line: ArraySlice<UInt8>, error: RFC3339.ParseError) -> Int {
        let needle = Array(("\"" + text + "\"").utf8)
        let bytes = Array(line)
        guard needle.count <= bytes.count else { return error.column }
        for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] && Array(bytes[start..<(start + needle.count)]) == needle {
            return start + 1 + error.column
        }
        return error.column
    }
}

/// The last date error a JSON Lines decode hit; each parse owns one and uses it on one thread.
private final class DateErrorBox: @unchecked Sendable {
    var value: (String, RFC3339.ParseError)?
}
