import ExportCore
import Foundation

/// Reference points measured in the same run on the same rows: Python's `csv` module writing the
/// rows, and the `gzip` command compressing the CSV. The machine is shared, so ratios measured side by
/// side say more than absolute figures.
enum Baselines {
    struct Figure {
        let name: String
        let rowsPerSecond: Double
        let megabytesPerSecond: Double
    }

    /// Writes the workload's CSV to a temporary file, then times the baselines on it.
    static func measure(rows: Int, runs: Int, level: Int) throws -> [Figure] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("export-baseline-\(getpid()).csv").path
        defer { unlink(path) }
        var workload = Workload()
        var chunks = ChunkedEncoder(try ExportFormat.csv.makeEncoder(columns: Workload.columns))
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw BenchmarkError("cannot create \(path)")
        }
        for number in 1...max(1, rows) {
            workload.produce(number)
            try chunks.write(workload.row)
            while let chunk = chunks.takeChunk() { try handle.write(contentsOf: chunk) }
        }
        for chunk in try chunks.finish() { try handle.write(contentsOf: chunk) }
        try handle.close()
        let size = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0)

        var figures: [Figure] = []
        // Python: parse once (not timed), then time csv.writer over the same rows into a discarding sink.
        let script = """
            import csv, sys, time
            class Sink:
                def write(self, text):
                    return len(text)
            with open(sys.argv[1], newline='', encoding='utf-8') as f:
                rows = list(csv.reader(f))
            times = []
            for _ in range(int(sys.argv[2])):
                start = time.perf_counter()
                csv.writer(Sink()).writerows(rows)
                times.append(time.perf_counter() - start)
            times.sort()
            print(len(rows) - 1, times[len(times) // 2])
            """
        if let output = try? run(["python3", "-c", script, path, String(runs)]), output.status == 0 {
            let parts = output.text.split(separator: " ")
            if parts.count == 2, let count = Double(parts[0]), let seconds = Double(parts[1].trimmingCharacters(in: .whitespacesAndNewlines)) {
                figures.append(Figure(name: "python-csv", rowsPerSecond: count / seconds, megabytesPerSecond: size / seconds / 1e6))
            }
        }
        // gzip(1) at the same level, reading the file and writing to /dev/null.
        var gzipTimes: [Double] = []
        for _ in 0..<runs {
            let clock = ContinuousClock()
            let start = clock.now
            guard let output = try? run(["sh", "-c", "gzip -\(level) -c \"$0\" > /dev/null", path]), output.status == 0 else { break }
            gzipTimes.append((clock.now - start).seconds)
        }
        if !gzipTimes.isEmpty {
            gzipTimes.sort()
            let median = gzipTimes[gzipTimes.count / 2]
            figures.append(Figure(name: "gzip-\(level)", rowsPerSecond: Double(rows) / median, megabytesPerSecond: size / median / 1e6))
        }
        return figures
    }

    private static func run(_ arguments: [String]) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
