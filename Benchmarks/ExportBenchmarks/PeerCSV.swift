import ExportCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `export-benchmarks peer-csv SINK N POOLS`: the CSV peer's workload (the shared peers folder's
/// WORKLOAD.md: 1 header + N rows of 10 columns from the value pools in POOLS), written through the
/// public field-by-field API (`CSVRecordWriter`, the pool strings lent as the
/// Rust program lends `&str`) into an `OutputBuffer` flushed every 64 KiB, as the Rust `csv` program
/// writes through its 64 KiB buffer. Same arguments and same output line as that program, so a script
/// can alternate the two and compare the bytes. For comparison, `peer-csv-strings` lends the pool
/// `String`s to the same writer (`text(_:)`) and `peer-csv-cells` writes the same rows through the cell
/// API (`CSVEncoder.write(cells:rowNumber:into:)`, a reused `[CellValue]`).
enum PeerCSV {
    struct Pools {
        var header: [String] = [], given: [String] = [], family: [String] = [], special: [String] = []
        var roles: [String] = [], status: [String] = [], dates: [String] = [], amounts: [String] = []
    }

    static func load(_ path: String) throws -> Pools {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw BenchmarkError("cannot read \(path)") }
        var pools = Pools()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count == 2, let bytes = Hex.decode(String(parts[1])) else { throw BenchmarkError("bad pools line \(line.prefix(40))") }
            let value = String(decoding: bytes, as: UTF8.self)
            switch parts[0] {
            case "HEADER": pools.header.append(value)
            case "GIVEN": pools.given.append(value)
            case "FAMILY": pools.family.append(value)
            case "SPECIAL": pools.special.append(value)
            case "ROLES": pools.roles.append(value)
            case "STATUS": pools.status.append(value)
            case "DATES": pools.dates.append(value)
            case "AMOUNTS": pools.amounts.append(value)
            default: throw BenchmarkError("unknown pool \(parts[0])")
            }
        }
        guard pools.header.count == 10, ![pools.given, pools.family, pools.special, pools.roles, pools.status, pools.dates, pools.amounts].contains(where: \.isEmpty) else {
            throw BenchmarkError("\(path) lacks a pool or the 10 column names")
        }
        return pools
    }

    /// Parses the arguments after `peer-csv`, runs, and prints the RESULT line.
    /// How the rows reach the encoder.
    enum Mode: String {
        /// `CSVRecordWriter.text(utf8:)` with the pools' bytes (`peer-csv`).
        case bytes = "peer-csv"
        /// `CSVRecordWriter.text(_:)` with the pool strings (`peer-csv-strings`).
        case strings = "peer-csv-strings"
        /// `CSVEncoder.write(cells:rowNumber:into:)` with a reused `[CellValue]` (`peer-csv-cells`).
        case cells = "peer-csv-cells"
    }

    static func main(_ arguments: [String], mode: Mode) throws {
        guard arguments.count == 3, let rows = Int(arguments[1]), rows >= 0 else {
            throw BenchmarkError("usage: export-benchmarks peer-csv|peer-csv-strings|peer-csv-cells null|file:PATH N POOLS")
        }
        let sink = arguments[0]
        let path: String
        if sink == "null" {
            path = "/dev/null"
        } else if sink.hasPrefix("file:"), sink.count > 5 {
            path = String(sink.dropFirst(5))
        } else {
            throw BenchmarkError("SINK must be null or file:PATH, not \(String(reflecting: sink))")
        }
        let pools = try load(arguments[2])
        let start = ContinuousClock.now
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw BenchmarkError("cannot create \(path): errno \(errno)") }
        defer { close(descriptor) }
        let bytes = try write(pools, rows: rows, to: descriptor, mode: mode)
        let seconds = (ContinuousClock.now - start).seconds
        print("RESULT impl=swift_export sink=\(sink.split(separator: ":")[0]) rows=\(rows) bytes=\(sink == "null" ? -1 : bytes) secs=\(String(format: "%.6f", seconds))")
    }

    /// The pools as UTF-8 bytes in memory of their own, each value a pointer and a length (Rust's `&str`).
    struct Lent {
        let given: [UnsafeBufferPointer<UInt8>], family: [UnsafeBufferPointer<UInt8>], special: [UnsafeBufferPointer<UInt8>]
        let roles: [UnsafeBufferPointer<UInt8>], status: [UnsafeBufferPointer<UInt8>], dates: [UnsafeBufferPointer<UInt8>]
        let amounts: [UnsafeBufferPointer<UInt8>]

        init(_ pools: Pools) {
            func lend(_ pool: [String]) -> [UnsafeBufferPointer<UInt8>] {
                pool.map { value in
                    let bytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: value.utf8.count)
                    _ = bytes.initialize(from: value.utf8)
                    return UnsafeBufferPointer(bytes)
                }
            }
            given = lend(pools.given)
            family = lend(pools.family)
            special = lend(pools.special)
            roles = lend(pools.roles)
            status = lend(pools.status)
            dates = lend(pools.dates)
            amounts = lend(pools.amounts)
        }

        func deallocate() {
            for pool in [given, family, special, roles, status, dates, amounts] {
                for value in pool { value.deallocate() }
            }
        }
    }

    /// Writes the header and the rows; returns the byte count.
    static func write(_ pools: Pools, rows: Int, to descriptor: Int32, mode: Mode) throws -> Int {
        let encoder = try CSVEncoder(columns: pools.header.map(ExportColumn.attribute))
        var total = 0
        func write(_ bytes: UnsafeBufferPointer<UInt8>) throws(BenchmarkError) {
            total += bytes.count
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                guard written > 0 else { throw BenchmarkError("write failed: errno \(errno)") }
                offset += written
            }
        }
        switch mode {
        case .cells:
            try writeCells(pools, rows: rows, encoder: encoder, write)
            return total
        case .strings:
            try writeStrings(pools, rows: rows, encoder: encoder, write)
            return total
        case .bytes: break
        }
        // The pools' UTF-8 bytes are lent to the writer, as the Rust program lends `&str` (a pointer and a
        // length into each pool `String`): no cell array, no copy of a string into a cell, no retain or
        // release per field. The bytes are copied out of the strings once, before the clock matters.
        let lent = Lent(pools)
        defer { lent.deallocate() }
        var writer = CSVRecordWriter(encoder: encoder, buffer: OutputBuffer(minimumCapacity: 1 << 17))
        try writer.writeHeader()
        for i in 0..<rows {
            writer.integer(Int64(i + 1))
            writer.integer(Int64(100_000 + (i &* 37) % 9973))
            writer.integer(Int64(5_000_000 + (i &* 7919) % 1_000_003))
            writer.text(utf8: lent.given[i % lent.given.count])
            if i % 50 == 0 {
                writer.text(utf8: lent.special[(i / 50) % lent.special.count])
            } else {
                writer.text(utf8: lent.family[(i / 7) % lent.family.count])
            }
            writer.text(utf8: lent.roles[i % lent.roles.count])
            writer.text(utf8: lent.dates[i % lent.dates.count])
            // An empty field: `null()` is CSV's empty, unquoted field (`text("")` is written `""`).
            if i % 7 == 0 {
                writer.null()
            } else {
                writer.text(utf8: lent.dates[(i &* 13 + 365) % lent.dates.count])
            }
            writer.text(utf8: lent.status[(i / 11) % lent.status.count])
            writer.text(utf8: lent.amounts[i % lent.amounts.count])
            try writer.endRecord(rowNumber: Int64(i + 1))
            if writer.count >= 1 << 16 { try writer.drain(write) }
        }
        try writer.drain(write)
        return total
    }

    /// The same rows with the pool strings lent to `CSVRecordWriter.text(_:)`.
    static func writeStrings(
        _ pools: Pools, rows: Int, encoder: CSVEncoder, _ write: (UnsafeBufferPointer<UInt8>) throws(BenchmarkError) -> Void
    ) throws {
        var writer = CSVRecordWriter(encoder: encoder, buffer: OutputBuffer(minimumCapacity: 1 << 17))
        try writer.writeHeader()
        for i in 0..<rows {
            writer.integer(Int64(i + 1))
            writer.integer(Int64(100_000 + (i &* 37) % 9973))
            writer.integer(Int64(5_000_000 + (i &* 7919) % 1_000_003))
            writer.text(pools.given[i % pools.given.count])
            if i % 50 == 0 {
                writer.text(pools.special[(i / 50) % pools.special.count])
            } else {
                writer.text(pools.family[(i / 7) % pools.family.count])
            }
            writer.text(pools.roles[i % pools.roles.count])
            writer.text(pools.dates[i % pools.dates.count])
            if i % 7 == 0 {
                writer.null()
            } else {
                writer.text(pools.dates[(i &* 13 + 365) % pools.dates.count])
            }
            writer.text(pools.status[(i / 11) % pools.status.count])
            writer.text(pools.amounts[i % pools.amounts.count])
            try writer.endRecord(rowNumber: Int64(i + 1))
            if writer.count >= 1 << 16 { try writer.drain(write) }
        }
        try writer.drain(write)
    }

    /// The same rows through the cell API: a reused `[CellValue]` and `write(cells:rowNumber:into:)`.
    static func writeCells(
        _ pools: Pools, rows: Int, encoder: CSVEncoder, _ write: (UnsafeBufferPointer<UInt8>) throws(BenchmarkError) -> Void
    ) throws {
        var encoder = encoder
        var buffer = OutputBuffer(minimumCapacity: 1 << 17)
        func flush() throws {
            try buffer.withUnsafeBytes(write)
            buffer.removeAll()
        }
        try encoder.writeHeader(into: &buffer)
        var cells = [CellValue](repeating: .null, count: 10)
        for i in 0..<rows {
            cells[0] = .integer(Int64(i + 1))
            cells[1] = .integer(Int64(100_000 + (i &* 37) % 9973))
            cells[2] = .integer(Int64(5_000_000 + (i &* 7919) % 1_000_003))
            cells[3] = .text(pools.given[i % pools.given.count])
            cells[4] = .text(i % 50 == 0 ? pools.special[(i / 50) % pools.special.count] : pools.family[(i / 7) % pools.family.count])
            cells[5] = .text(pools.roles[i % pools.roles.count])
            cells[6] = .text(pools.dates[i % pools.dates.count])
            // An empty field: `.null` is CSV's empty, unquoted field (`.text("")` is written `""`).
            cells[7] = i % 7 == 0 ? .null : .text(pools.dates[(i &* 13 + 365) % pools.dates.count])
            cells[8] = .text(pools.status[(i / 11) % pools.status.count])
            cells[9] = .text(pools.amounts[i % pools.amounts.count])
            try encoder.write(cells: cells, rowNumber: Int64(i + 1), into: &buffer)
            if buffer.count >= 1 << 16 { try flush() }
        }
        try flush()
    }
}
