import ExportCore
import Foundation
import FuzzZlib

let columns = ExportColumn.standard + [.attribute("note")]
let textFields: [ExportColumn.Field] = [.membershipID, .userID, .organizationID, .organizationName, .plan, .role, .status, .currency]

/// An RFC 4180 reader, independent of the library's: records of fields, BOM skipped.
func readCSV(_ input: [UInt8], delimiter: UInt8) -> [[String]]? {
    var bytes = input[...]
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
    var records: [[String]] = []
    var record: [String] = []
    var field: [UInt8] = []
    var index = bytes.startIndex
    var quoted = false
    while index < bytes.endIndex {
        let byte = bytes[index]
        index += 1
        if quoted {
            if byte == 0x22 {
                if index < bytes.endIndex, bytes[index] == 0x22 { field.append(0x22); index += 1 } else { quoted = false }
            } else {
                field.append(byte)
            }
        } else if byte == 0x22 {
            guard field.isEmpty else { return nil }
            quoted = true
        } else if byte == delimiter {
            record.append(String(decoding: field, as: UTF8.self)); field = []
        } else if byte == 0x0D, index < bytes.endIndex, bytes[index] == 0x0A {
            continue
        } else if byte == 0x0A {
            record.append(String(decoding: field, as: UTF8.self)); field = []
            records.append(record); record = []
        } else {
            field.append(byte)
        }
    }
    guard !quoted, field.isEmpty, record.isEmpty else { return nil }  // every record ends with a line ending
    return records
}

/// Fuzz bytes to a few rows: texts split at 0xFF, dates from whole milliseconds.
func rows(_ input: ArraySlice<UInt8>) -> [Membership] {
    let texts = input.split(separator: 0xFF, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    var result: [Membership] = []
    var cursor = 0
    func next() -> String {
        defer { cursor += 1 }
        return texts.isEmpty ? "" : texts[cursor % texts.count]
    }
    for rowIndex in 0..<(1 + texts.count / 9) {
        let seed = Int64(input.count &* 7_919 &+ rowIndex &* 104_729)
        let milliseconds = (seed &* 2_654_435_761) % 253_402_300_799_000
        let membership = Membership(
            membershipID: next(), userID: UserID(next()), organizationID: next(), organizationName: next(), plan: next(),
            role: next(), status: next(), startedAt: Date(timeIntervalSince1970: Double(milliseconds) / 1000),
            endedAt: rowIndex % 2 == 0 ? nil : Date(timeIntervalSince1970: Double(milliseconds / 1000)),
            renewsAt: nil, amount: ExactDecimal(units: seed &* 31 - 1_000_000, scale: UInt8(rowIndex % 7)), currency: next(),
            attributes: rowIndex % 3 == 0 ? [:] : ["note": next()])
        result.append(membership)
    }
    return result
}

func text(_ row: Membership, _ column: ExportColumn) -> String? {
    switch column.source {
    case .attribute(let name): return row.attributes[name]
    case .field(let field):
        switch field {
        case .membershipID: return row.membershipID
        case .userID: return row.userID.rawValue
        case .organizationID: return row.organizationID
        case .organizationName: return row.organizationName
        case .plan: return row.plan
        case .role: return row.role
        case .status: return row.status
        case .currency: return row.currency
        default: return nil
        }
    }
}

func date(_ row: Membership, _ column: ExportColumn) -> Date?? {
    guard case .field(let field) = column.source else { return nil }
    switch field {
    case .startedAt: return .some(row.startedAt)
    case .endedAt: return .some(row.endedAt)
    case .renewsAt: return .some(row.renewsAt)
    default: return nil
    }
}

func encode(_ encoder: any RowEncoder, _ rows: [Membership]) throws -> [UInt8] {
    var chunks = ChunkedEncoder(encoder, chunkSize: 257)
    var output: [UInt8] = []
    for row in rows {
        try chunks.write(row)
        while let chunk = chunks.takeChunk() { output += chunk }
    }
    for chunk in try chunks.finish() { output += chunk }
    return output
}

/// Inflates one gzip member with zlib (windowBits 15 + 16), independently of the library's deflate
/// code; `nil` unless the input is exactly one complete member.
func gunzip(_ compressed: [UInt8]) -> [UInt8]? {
    var stream = z_stream()
    guard fuzz_zlib_inflate_init2(&stream, 15 + 16) == Z_OK else { fatalError("zlib's inflate could not start") }
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    var input = compressed
    var chunk = [UInt8](repeating: 0, count: 4096)
    var status = Z_OK
    input.withUnsafeMutableBufferPointer { input in
        stream.next_in = input.baseAddress
        stream.avail_in = UInt32(input.count)
        repeat {
            chunk.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                status = inflate(&stream, Z_NO_FLUSH)
                output += out[0..<(out.count - Int(stream.avail_out))]
            }
        } while status == Z_OK
    }
    guard status == Z_STREAM_END, stream.avail_in == 0 else { return nil }
    return output
}

func sameMillisecond(_ text: String, _ expected: Date?) -> Bool {
    guard let expected else { return text.isEmpty }
    guard let parsed = try? RFC3339.parse(text) else { return false }
    return (parsed.timeIntervalSince1970 * 1000).rounded() == (expected.timeIntervalSince1970 * 1000).rounded()
}

/// CSV cells read back exactly (after the documented formula guard); every JSON Lines line is valid
/// JSON with exact values; the `.csv.gz` output inflates (with zlib, not the library) to exactly the
/// CSV encoder's bytes for the same rows and options, at every level. Text holding NUL is the only
/// refusal, as an `encoding` error, from the CSV and the gzip encoder alike.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEncoders(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let flags = input[0]
    let delimiter = [UInt8(ascii: ","), UInt8(ascii: ";"), 0x09, UInt8(ascii: "|")][Int(flags & 3)]
    let options = CSVOptions(
        delimiter: delimiter, quoting: flags & 4 == 0 ? .minimal : .all, lineEnding: flags & 8 == 0 ? .crlf : .lf,
        byteOrderMark: flags & 16 != 0, neutralizeFormulas: flags & 32 == 0)
    let memberships = rows(input.dropFirst())
    let hasNUL = memberships.contains { row in columns.contains { text(row, $0)?.utf8.contains(0) ?? false } }
    var csv: [UInt8]?

    // CSV
    do {
        let bytes = try encode(try CSVEncoder(columns: columns, options: options), memberships)
        csv = bytes
        guard !hasNUL else { fatalError("text with NUL was written") }
        guard let records = readCSV(bytes, delimiter: delimiter), records.count == memberships.count + 1 else {
            fatalError("the CSV does not read back as \(memberships.count + 1) records")
        }
        guard records[0] == columns.map(\.name) else { fatalError("header \(records[0])") }
        for (row, record) in zip(memberships, records.dropFirst()) {
            guard record.count == columns.count else { fatalError("\(record.count) fields") }
            for (column, cell) in zip(columns, record) {
                if let expected = text(row, column) {
                    let guarded = options.neutralizeFormulas && expected.utf8.first.map(CSVOptions.isFormulaTrigger) == true
                    guard cell == (guarded ? "'" + expected : expected) else {
                        fatalError("\(column.name): \(expected.debugDescription) read back as \(cell.debugDescription)")
                    }
                } else if let expected = date(row, column) {
                    guard sameMillisecond(cell, expected) else { fatalError("\(column.name): date read back as \(cell)") }
                } else if column.name == "amount" {
                    guard ExactDecimal(cell) == row.amount else { fatalError("amount \(String(describing: row.amount)) read back as \(cell)") }
                }
            }
        }
    } catch let error as ExportError {
        guard hasNUL, error.code == .encoding else { fatalError("CSV refused: \(error)") }
    } catch {
        fatalError("untyped error \(error)")
    }

    // CSV, gzipped: the level comes from the input's last byte, so every level is reached.
    let level = Int(input[input.count - 1] % 10)
    do {
        let compressed = try encode(
            ExportFormat.csvGzip.makeEncoder(columns: columns, csv: options, compressionLevel: level), memberships)
        guard let csv else { fatalError("the gzip encoder wrote rows the CSV encoder refused") }
        guard let inflated = gunzip(compressed) else { fatalError("the .csv.gz output (level \(level)) is not one gzip member") }
        guard inflated == csv else {
            fatalError("the .csv.gz output (level \(level)) inflates to \(inflated.count) bytes, not the CSV's \(csv.count)")
        }
    } catch let error as ExportError {
        guard csv == nil, error.code == .encoding else { fatalError("gzip refused: \(error)") }
    } catch {
        fatalError("untyped error \(error)")
    }

    // JSON Lines
    do {
        let bytes = try encode(JSONLinesEncoder(columns: columns), memberships)
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count == memberships.count + 1, lines.last?.isEmpty == true else { fatalError("\(lines.count) lines") }
        for (row, line) in zip(memberships, lines) {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                fatalError("not a JSON object: \(String(decoding: line, as: UTF8.self).debugDescription)")
            }
            for column in columns {
                let value = object[column.name]
                if let expected = text(row, column) {
                    guard let string = value as? String, Array(string.utf8) == Array(expected.utf8) else {
                        fatalError("\(column.name): \(expected.debugDescription) read back as \(String(describing: value))")
                    }
                } else if let expected = date(row, column) {
                    guard let expected else {
                        guard value is NSNull else { fatalError("\(column.name) should be null") }
                        continue
                    }
                    guard let string = value as? String, sameMillisecond(string, expected) else { fatalError("\(column.name) date") }
                } else if column.name == "amount" {
                    guard let string = value as? String, ExactDecimal(string) == row.amount else { fatalError("amount") }
                }
            }
        }
    } catch {
        fatalError("JSON Lines refused: \(error)")
    }
    return 0
}
