import ExportCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `export-benchmarks peer-csv SINK N POOLS`: the CSV peer's workload (the shared peers folder's
/// WORKLOAD.md: 1 header + N rows of 10 columns from the value pools in POOLS), written through the
/// public cell API (`CSVEncoder.write(cells:rowNumber:into:)`) into an `OutputBuffer` flushed every
/// 64 KiB, as the Rust `csv` program writes through its 64 KiB buffer. Same arguments and same output
/// line as that program, so a script can alternate the two and compare the bytes.
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
    static func main(_ arguments: [String]) throws {
        guard arguments.count == 3, let rows = Int(arguments[1]), rows >= 0 else {
            throw BenchmarkError("usage: export-benchmarks peer-csv null|file:PATH N POOLS")
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
        let bytes = try write(pools, rows: rows, to: descriptor)
        let seconds = (ContinuousClock.now - start).seconds
        print("RESULT impl=swift_export sink=\(sink.split(separator: ":")[0]) rows=\(rows) bytes=\(sink == "null" ? -1 : bytes) secs=\(String(format: "%.6f", seconds))")
    }

    /// Writes the header and the rows; returns the byte count.
    static func write(_ pools: Pools, rows: Int, to descriptor: Int32) throws -> Int {
        var encoder = try CSVEncoder(columns: pools.header.map(ExportColumn.attribute))
        var buffer = OutputBuffer(minimumCapacity: 1 << 17)
        var total = 0
        func flush() throws {
            total += buffer.count
            try buffer.withUnsafeBytes { bytes throws(BenchmarkError) in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    guard written > 0 else { throw BenchmarkError("write failed: errno \(errno)") }
                    offset += written
                }
            }
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
        return total
    }
}
