import ExportCore
import Foundation

// export-benchmarks: encoder throughput and peak memory on a deterministic in-memory workload.
//
//     swift run -c release export-benchmarks [--rows N] [--runs N] [--only csv,csv.gz,...] [--level N] [--baselines]
//     swift run -c release export-benchmarks --rows 1000 --write-csv sample.csv   # look at the workload
//     swift run -c release export-benchmarks peer-csv null|file:PATH N POOLS       # the CSV peer's workload
//     swift run -c release export-benchmarks peer-csv-strings|peer-csv-cells ...    # the same, lending Strings / through [CellValue]
//     swift run -c release export-benchmarks --only jobs-memory,jobs-file --jobs 1000,10000,100000 --runs 1
//     swift run -c release export-benchmarks --only s3-upload --s3-endpoint http://127.0.0.1:5000 --s3-bucket B [--s3-file PATH]
//         (Scripts/s3_upload_bench.py runs it against its own moto_server, beside boto3 on the same file)
//
// Prints a table, then one JSON object per scenario (rows/s, MB/s, output bytes and peak RSS are the
// medians/maximum over the runs). Peak RSS is VmHWM from /proc/self/status, reset before each scenario
// through /proc/self/clear_refs where the kernel allows it. `--baselines` also times Python's csv module
// writing the same rows and gzip(1) compressing the same CSV, in the same run.

var rows = 1_000_000
var runs = 5
var level = 6
var only: Set<String>?
var baselines = false
var sample: String?
var jobCounts = [1000]
var clients = 32
var s3 = S3UploadScenario.Options()
let usage = "usage: export-benchmarks [--rows N] [--runs N] [--only \(Scenario.all.map(\.name).joined(separator: ","))] [--level 0-9] [--jobs N[,N...]] [--clients N] [--baselines] [--write-csv PATH]"
    + " [--s3-endpoint URL] [--s3-bucket NAME] [--s3-file PATH | --s3-megabytes N] [--s3-part-mib N] [--s3-parts-in-flight N] [--s3-unsigned] [--s3-transport urlsession|http1]"

/// Prints what is wrong and the usage to standard error, and exits with status 2.
func usageError(_ message: String) -> Never {
    FileHandle.standardError.write(Data("export-benchmarks: \(message)\n\(usage)\n".utf8))
    exit(2)
}

/// The value after a flag, which must be present and not another flag.
func value(after flag: String, _ arguments: inout ArraySlice<String>) -> String {
    guard let value = arguments.popFirst(), !value.hasPrefix("--") else { usageError("\(flag) needs a value") }
    return value
}

/// A whole number in `range` after a flag (`_` separators allowed, as in `1_000_000`).
func number(after flag: String, in range: ClosedRange<Int>, _ arguments: inout ArraySlice<String>) -> Int {
    let text = value(after: flag, &arguments)
    guard let number = Int(text.replacingOccurrences(of: "_", with: "")), range.contains(number) else {
        usageError("\(flag) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(String(reflecting: text))")
    }
    return number
}

if let mode = CommandLine.arguments.dropFirst().first.flatMap(PeerCSV.Mode.init(rawValue:)) {
    do {
        try PeerCSV.main(Array(CommandLine.arguments.dropFirst(2)), mode: mode)
        exit(0)
    } catch {
        usageError("\(error)")
    }
}

var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--rows": rows = number(after: argument, in: 1...Int(Int32.max), &arguments)
    case "--runs": runs = number(after: argument, in: 1...1000, &arguments)
    case "--level": level = number(after: argument, in: 0...9, &arguments)
    case "--only":
        let names = Set(value(after: argument, &arguments).split(separator: ",").map(String.init))
        let unknown = names.subtracting(Scenario.all.map(\.name))
        guard !names.isEmpty, unknown.isEmpty else { usageError("unknown scenario(s) \(unknown.sorted().joined(separator: ","))") }
        only = names
    case "--jobs":
        let text = value(after: argument, &arguments)
        let counts = text.split(separator: ",").map { Int($0.replacingOccurrences(of: "_", with: "")) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 10_000_000 }) else {
            usageError("--jobs must be whole numbers from 1 to 10000000, comma-separated, not \(String(reflecting: text))")
        }
        jobCounts = counts.compactMap { $0 }
    case "--clients": clients = number(after: argument, in: 1...1000, &arguments)
    case "--baselines": baselines = true
    case "--write-csv": sample = value(after: argument, &arguments)
    case "--s3-endpoint":
        let text = value(after: argument, &arguments)
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            usageError("--s3-endpoint must be an http(s) URL, not \(String(reflecting: text))")
        }
        s3.endpoint = url
    case "--s3-bucket": s3.bucket = value(after: argument, &arguments)
    case "--s3-file": s3.file = value(after: argument, &arguments)
    case "--s3-megabytes": s3.bytes = number(after: argument, in: 1...100_000, &arguments) * 1_000_000
    case "--s3-part-mib": s3.partSize = number(after: argument, in: 5...5120, &arguments) * 1024 * 1024
    case "--s3-parts-in-flight": s3.partsInFlight = number(after: argument, in: 1...64, &arguments)
    case "--s3-unsigned": s3.unsignedPartPayloads = true
    case "--s3-transport":
        let name = value(after: argument, &arguments)
        guard let transport = S3UploadScenario.Transport(rawValue: name) else {
            usageError("--s3-transport must be urlsession or http1, not \(String(reflecting: name))")
        }
        s3.transport = transport
    case "-h", "--help":
        print(usage)
        exit(0)
    default: usageError("unknown argument \(String(reflecting: argument))")
    }
}

/// The figures of a `jobs-*` scenario at one job count.
struct JobsResult: Codable {
    var scenario: String
    var jobs: Int
    var clients: Int
    var runs: Int
    var seconds: Double
    var cpuSeconds: Double
    var jobsPerSecond: Double
    var requestP50Milliseconds: Double
    var requestP99Milliseconds: Double
    var peakRSSMiB: Double
}

/// The `fraction` quantile of sorted values (nearest rank).
func quantile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))]
}

struct Result: Codable {
    var scenario: String
    var rows: Int
    var runs: Int
    var seconds: Double
    var cpuSeconds: Double
    var rowsPerSecond: Double
    var rowsPerCPUSecond: Double
    var megabytesPerSecond: Double
    var outputBytes: Int
    var peakRSSMiB: Double
}

if let sample {
    // Writes the workload's CSV to a file and stops, to look at what is being measured.
    var workload = Workload()
    var chunks = ChunkedEncoder(try ExportFormat.csv.makeEncoder(columns: Workload.columns))
    var output = Data()
    for number in 1...max(1, rows) {
        workload.produce(number)
        try chunks.write(workload.row)
        while let chunk = chunks.takeChunk() { output.append(contentsOf: chunk) }
    }
    for chunk in try chunks.finish() { output.append(contentsOf: chunk) }
    try output.write(to: URL(fileURLWithPath: sample))
    print("wrote \(rows) rows, \(output.count) bytes to \(sample)")
    exit(0)
}

if only?.contains("s3-upload") == true, s3.endpoint == nil {
    usageError("s3-upload needs --s3-endpoint (Scripts/s3_upload_bench.py starts a moto_server and passes it)")
}

let resetWorks = PeakMemory.reset()
print("export-benchmarks: \(rows) rows x \(Workload.columns.count) columns, median of \(runs) runs, gzip level \(level)"
    + (resetWorks ? "" : " (peak RSS cannot be reset here: figures are the process's peak so far)"))
var results: [Result] = []
var jobsResults: [JobsResult] = []
var s3Results: [S3UploadScenario.Result] = []
for scenario in Scenario.all where only?.contains(scenario.name) ?? true {
    _ = PeakMemory.reset()
    if scenario.s3Upload {
        // Needs a server: run only when given one.
        guard s3.endpoint != nil else { continue }
        do {
            s3Results.append(try await S3UploadScenario.run(s3, runs: runs))
        } catch {
            FileHandle.standardError.write(Data("export-benchmarks: s3-upload failed: \(error)\n".utf8))
            exit(1)
        }
        continue
    }
    if let backend = scenario.jobs {
        for count in jobCounts {
            _ = PeakMemory.reset()
            var figures: [JobsScenario.Figures] = []
            for _ in 0..<runs { figures.append(try await JobsScenario.run(jobs: count, clients: clients, backend: backend)) }
            let seconds = figures.map(\.seconds).sorted()[figures.count / 2]
            let cpu = figures.map(\.cpuSeconds).sorted()[figures.count / 2]
            let latencies = figures.flatMap(\.requestLatencies).sorted()
            jobsResults.append(
                JobsResult(
                    scenario: scenario.name, jobs: count, clients: clients, runs: runs, seconds: seconds, cpuSeconds: cpu,
                    jobsPerSecond: Double(count) / seconds, requestP50Milliseconds: quantile(latencies, 0.5) * 1000,
                    requestP99Milliseconds: quantile(latencies, 0.99) * 1000, peakRSSMiB: Double(PeakMemory.peakKiB()) / 1024))
        }
        continue
    }
    var timings: [Double] = []
    var cpuTimings: [Double] = []
    var bytes = 0
    for _ in 0..<runs {
        let (seconds, cpuSeconds, size) = try await scenario.run(rows: rows, compressionLevel: level)
        timings.append(seconds)
        cpuTimings.append(cpuSeconds)
        bytes = size
    }
    timings.sort()
    cpuTimings.sort()
    let median = timings[timings.count / 2]
    let cpuMedian = cpuTimings[cpuTimings.count / 2]
    results.append(
        Result(
            scenario: scenario.name, rows: rows, runs: runs, seconds: median, cpuSeconds: cpuMedian,
            rowsPerSecond: Double(rows) / median, rowsPerCPUSecond: Double(rows) / cpuMedian,
            megabytesPerSecond: Double(bytes) / median / 1_000_000, outputBytes: bytes,
            peakRSSMiB: Double(PeakMemory.peakKiB()) / 1024))
}

func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
print(
    pad("scenario", 10) + pad("rows/s", 12) + pad("MB/s", 9) + pad("output bytes", 14) + pad("median s", 10)
        + pad("rows/CPU-s", 12) + pad("peak RSS MiB", 14))
for result in results {
    print(
        pad(result.scenario, 10) + pad(String(format: "%.0f", result.rowsPerSecond), 12)
            + pad(String(format: "%.1f", result.megabytesPerSecond), 9) + pad(String(result.outputBytes), 14)
            + pad(String(format: "%.3f", result.seconds), 10) + pad(String(format: "%.0f", result.rowsPerCPUSecond), 12)
            + pad(String(format: "%.1f", result.peakRSSMiB), 14))
}
if !jobsResults.isEmpty {
    print(pad("scenario", 24) + pad("jobs", 8) + pad("jobs/s", 10) + pad("req p50 ms", 12) + pad("req p99 ms", 12) + pad("CPU s", 8) + pad("peak RSS MiB", 14))
    for result in jobsResults {
        print(
            pad(result.scenario, 24) + pad(String(result.jobs), 8) + pad(String(format: "%.0f", result.jobsPerSecond), 10)
                + pad(String(format: "%.2f", result.requestP50Milliseconds), 12) + pad(String(format: "%.2f", result.requestP99Milliseconds), 12)
                + pad(String(format: "%.2f", result.cpuSeconds), 8) + pad(String(format: "%.1f", result.peakRSSMiB), 14))
    }
}
if !s3Results.isEmpty {
    print(pad("scenario", 10) + pad("bytes", 12) + pad("MB/s", 9) + pad("median s", 10) + pad("CPU s", 8) + pad("parts", 7) + pad("peak RSS MiB", 14))
    for result in s3Results {
        print(
            pad(result.scenario, 10) + pad(String(result.bytes), 12) + pad(String(format: "%.1f", result.megabytesPerSecond), 9)
                + pad(String(format: "%.3f", result.seconds), 10) + pad(String(format: "%.2f", result.cpuSeconds), 8)
                + pad("\(result.partSize >> 20)Mx\(result.partsInFlight)", 7) + pad(String(format: "%.1f", result.peakRSSMiB), 14))
    }
}
let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys]
for result in results {
    print(String(decoding: try encoder.encode(result), as: UTF8.self))
}
for result in jobsResults {
    print(String(decoding: try encoder.encode(result), as: UTF8.self))
}
for result in s3Results {
    print(String(decoding: try encoder.encode(result), as: UTF8.self))
}

if baselines {
    let figures = try Baselines.measure(rows: rows, runs: runs, level: level)
    let csvRate = results.first { $0.scenario == "csv" }?.rowsPerSecond
    let gzipRate = results.first { $0.scenario == "csv.gz" }?.rowsPerSecond
    for figure in figures {
        let ours = figure.name.hasPrefix("gzip") ? gzipRate : csvRate
        let ratio = ours.map { String(format: "%.1fx", $0 / figure.rowsPerSecond) } ?? "-"
        print(
            "baseline \(figure.name): \(String(format: "%.0f", figure.rowsPerSecond)) rows/s, "
                + "\(String(format: "%.1f", figure.megabytesPerSecond)) MB/s; ours/baseline \(ratio)")
        let object: [String: Any] = [
            "baseline": figure.name, "rowsPerSecond": figure.rowsPerSecond, "megabytesPerSecond": figure.megabytesPerSecond,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
