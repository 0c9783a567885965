import ExportCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One benchmark case: a format and where its chunks go.
struct Scenario {
    enum Sink {
        /// Chunks are counted and dropped.
        case discard
        /// Chunks are written to a file in the temporary directory, which is deleted afterwards.
        case file
    }

    let name: String
    let format: ExportFormat?
    let sink: Sink
    /// Set for the hashing cases: the rows' CSV is made first, untimed, and the timed part is
    /// SHA-256 over it in 64 KiB updates, as the worker hashes each chunk it stores.
    var hashing: SHA256Hasher.Implementation? = nil
    /// Set for `export-file`: the whole export on the file-system backend (see ``ExportFileScenario``).
    var wholeExport = false
    /// Set for the `jobs-*` scenarios: tiny jobs, request → notified, on this backend (see ``JobsScenario``).
    var jobs: JobsScenario.Backend? = nil
    /// Set for `s3-upload`: one blob through `S3BlobStore` to `--s3-endpoint` (see ``S3UploadScenario``);
    /// run only when named in `--only` or given an endpoint.
    var s3Upload = false

    static let all: [Scenario] = [
        Scenario(name: "rows-only", format: nil, sink: .discard),
        Scenario(name: "csv", format: .csv, sink: .discard),
        Scenario(name: "export-file", format: .csv, sink: .file, wholeExport: true),
        Scenario(name: "csv-file", format: .csv, sink: .file),
        Scenario(name: "csv.gz", format: .csvGzip, sink: .discard),
        Scenario(name: "jsonl", format: .jsonLines, sink: .discard),
        Scenario(name: "sha256", format: .csv, sink: .discard, hashing: .preferred),
        Scenario(name: "sha256-portable", format: .csv, sink: .discard, hashing: .portable),
        Scenario(name: "jobs-memory", format: nil, sink: .discard, jobs: .memory),
        Scenario(name: "jobs-file", format: nil, sink: .discard, jobs: .file(.powerLoss)),
        Scenario(name: "jobs-file-process-crash", format: nil, sink: .discard, jobs: .file(.processCrash)),
        Scenario(name: "s3-upload", format: nil, sink: .discard, s3Upload: true),
    ]

    /// Runs the scenario once over `rows` rows.
    ///
    /// - Returns: The elapsed (wall-clock) seconds, the thread's CPU seconds, and the output size in bytes.
    func run(rows: Int, compressionLevel: Int) async throws -> (seconds: Double, cpuSeconds: Double, bytes: Int) {
        if wholeExport { return try await ExportFileScenario.run(rows: rows) }
        var workload = Workload()
        guard let format else {
            // Row production alone, the floor under every other case.
            let clock = ContinuousClock()
            let start = clock.now
            let cpuStart = CPUTime.now()
            var checksum = 0
            for number in 1...max(1, rows) {
                workload.produce(number)
                checksum &+= workload.row.membershipID.utf8.count
            }
            let elapsed = clock.now - start
            let cpu = CPUTime.now() - cpuStart
            if checksum == 42 { print("") }
            return (elapsed.seconds, cpu, 0)
        }
        if let hashing { return try hash(rows: rows, with: hashing) }
        let encoder = try format.makeEncoder(columns: Workload.columns, compressionLevel: compressionLevel)
        var chunks = ChunkedEncoder(encoder)
        var output = try Output(sink)
        defer { output.close() }
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = CPUTime.now()
        if rows > 0 {
            for number in 1...rows {
                workload.produce(number)
                try chunks.write(workload.row)
                while let chunk = chunks.takeChunk() { try output.write(chunk) }
            }
        }
        for chunk in try chunks.finish() { try output.write(chunk) }
        let elapsed = clock.now - start
        let cpu = CPUTime.now() - cpuStart
        return (elapsed.seconds, cpu, output.bytes)
    }
}

extension Scenario {
    /// SHA-256 over the rows' CSV: the encoder's chunks are made untimed and only the updates are
    /// timed, so memory stays as flat as in the `csv` case.
    private func hash(rows: Int, with implementation: SHA256Hasher.Implementation) throws -> (seconds: Double, cpuSeconds: Double, bytes: Int) {
        guard var hasher = SHA256Hasher(implementation: implementation) else {
            throw BenchmarkError("this CPU has no \(implementation.rawValue) SHA-256")
        }
        var workload = Workload()
        var chunks = ChunkedEncoder(try ExportFormat.csv.makeEncoder(columns: Workload.columns))
        let clock = ContinuousClock()
        var elapsed = Duration.zero
        var cpu = 0.0
        var bytes = 0
        func timedUpdate(_ chunk: [UInt8]) {
            let start = clock.now
            let cpuStart = CPUTime.now()
            hasher.update(chunk)
            cpu += CPUTime.now() - cpuStart
            elapsed += clock.now - start
            bytes += chunk.count
        }
        for number in 1...max(1, rows) {
            workload.produce(number)
            try chunks.write(workload.row)
            while let chunk = chunks.takeChunk() { timedUpdate(chunk) }
        }
        for chunk in try chunks.finish() { timedUpdate(chunk) }
        let start = clock.now
        let digest = hasher.finalize()
        elapsed += clock.now - start
        if digest.bytes.isEmpty { print("") }
        return (elapsed.seconds, cpu, bytes)
    }
}

/// Where the chunks go.
struct Output {
    private(set) var bytes = 0
    private var descriptor: Int32 = -1
    private var path: String?

    init(_ sink: Scenario.Sink) throws {
        guard case .file = sink else { return }
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("export-benchmark-\(getpid()).csv").path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw BenchmarkError("cannot create \(path): errno \(errno)") }
        self.path = path
    }

    mutating func write(_ chunk: [UInt8]) throws {
        bytes += chunk.count
        guard descriptor >= 0 else { return }
        try chunk.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                guard written > 0 else { throw BenchmarkError("write failed: errno \(errno)") }
                offset += written
            }
        }
    }

    mutating func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
        if let path { unlink(path) }
        path = nil
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// The calling thread's CPU time: less disturbed than wall-clock time when other processes share the cores.
enum CPUTime {
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
