import ExportCore
import ExportFileSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The `export-file` scenario: one whole export on the file-system backend, as a host runs it.
///
/// `ExportService.request` records and queues the job; `ExportWorker.processAvailable()` receives it,
/// claims it, pages the workload's rows out of a ``WorkloadSource`` (1,000 rows a page, the worker's
/// default), encodes CSV, hashes every chunk with SHA-256, appends it to a `FileBlobStore` file
/// (fsynced and renamed into place at the end), signs the link, records the job as succeeded and
/// writes the "ready" e-mail to the outbox. Timed from the request to the return of
/// `processAvailable()`, when the e-mail is in the outbox. Afterwards (untimed) the scenario checks
/// that the job succeeded with every row, that the stored file's SHA-256 is the job's checksum, and
/// that the outbox holds one e-mail; any difference fails the benchmark.
enum ExportFileScenario {
    static let owner = UserID("42424242")

    static func run(rows: Int) async throws -> (seconds: Double, cpuSeconds: Double, bytes: Int) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("export-benchmark-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backend = try FileSystemBackend(
            directory: directory, linkSecret: Array("benchmark link secret, 32 bytes!".utf8),
            linkBaseURL: URL(string: "https://exports.example.com/api/v1/downloads")!,
            from: try EmailAddress(validating: "exports@example.com"))
        let service = try ExportService(
            ports: backend.ports,
            configuration: .init(attributeColumns: ["given_name", "family_name"], rateLimit: nil))
        let worker = try ExportWorker(
            ports: backend.ports, source: WorkloadSource(rows: rows),
            configuration: .init(concurrency: 1, receiveWaitTime: .zero))
        let recipient = try EmailAddress(validating: "owner@example.com")

        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = ProcessCPUTime.now()
        let ticket = try await service.request(
            ExportRequest(owner: owner, recipient: recipient, format: "csv", columns: Workload.columns.map(\.name)))
        let handled = try await worker.processAvailable()
        let elapsed = clock.now - start
        let cpu = ProcessCPUTime.now() - cpuStart

        guard handled == 1, let job = try await backend.jobStore.get(ticket.jobID), job.state == .succeeded, let result = job.result else {
            throw BenchmarkError("export-file: the export did not succeed (handled \(handled))")
        }
        guard result.rows == Int64(rows) else { throw BenchmarkError("export-file: \(result.rows) rows stored, not \(rows)") }
        let stored = directory.appendingPathComponent("files/blobs/" + result.blobKey.rawValue)
        // Read back in 64 KiB blocks, so checking adds nothing to the peak RSS the scenario reports.
        let handle = try FileHandle(forReadingFrom: stored)
        defer { try? handle.close() }
        var hasher = SHA256Hasher()
        var size = 0
        while let block = try handle.read(upToCount: 65_536), !block.isEmpty {
            hasher.update(Array(block))
            size += block.count
        }
        guard size == Int(result.bytes), hasher.finalize().hexString == result.sha256 else {
            throw BenchmarkError("export-file: the stored file's size or SHA-256 is not the job's")
        }
        let mails = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("outbox").path)
            .filter { $0.hasSuffix(".eml") }
        guard mails.count == 1 else { throw BenchmarkError("export-file: \(mails.count) e-mails in the outbox, not 1") }
        return (elapsed.seconds, cpu, size)
    }
}

/// The process's CPU time (every thread): the pipeline runs on the concurrency pool's threads.
enum ProcessCPUTime {
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
