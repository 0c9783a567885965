import ExportAWS
import ExportCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The `s3-upload` scenario: one blob through the public `S3BlobStore` writer API to an S3 endpoint
/// (a local moto_server in `Scripts/s3_upload_bench.py`, which times boto3 on the same file beside it).
///
/// Timed from `beginWrite` to the return of `finish()`: the bytes are appended in 64 KiB chunks (the
/// worker's default chunk size), read from `--s3-file` or, without one, made from ``pattern(_:)``.
/// Afterwards (untimed) the object's size is checked with a HEAD and the object is deleted, so the
/// server's memory does not grow from run to run. CPU is the whole process's (the parts upload on
/// other threads).
enum S3UploadScenario {
    struct Options {
        var endpoint: URL?
        var bucket = "export-benchmarks"
        var file: String?
        var bytes = 100_000_000
        var partSize: Int?
        var partsInFlight: Int?
        var unsignedPartPayloads = false
        var transport = Transport.http1
    }

    /// The ``HTTPTransport`` the store uploads through.
    enum Transport: String, Codable {
        /// `URLSessionTransport`.
        case urlsession
        /// `HTTP1Transport`, this package's own HTTP/1.1 client for `http://` peers, the adapters' default.
        case http1

        func make() -> any HTTPTransport {
            switch self {
            case .urlsession: URLSessionTransport()
            case .http1: HTTP1Transport()
            }
        }
    }

    struct Result: Codable {
        var scenario: String
        var bytes: Int
        var runs: Int
        var seconds: Double
        var cpuSeconds: Double
        var megabytesPerSecond: Double
        var partSize: Int
        var partsInFlight: Int
        var unsignedPartPayloads: Bool
        var transport: Transport
        var etag: String
        var peakRSSMiB: Double
    }

    static let chunkSize = 64 * 1024

    /// The byte at `offset` of the generated blob: the top byte of `offset × 2654435761` modulo 2³²,
    /// which does not repeat within 4 GiB. `Scripts/s3_upload_bench.py` writes the same bytes.
    @inline(__always)
    static func pattern(_ offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (UInt32(truncatingIfNeeded: offset) &* 2_654_435_761) >> 24)
    }

    static func run(_ options: Options, runs: Int) async throws -> Result {
        guard let endpoint = options.endpoint else { throw BenchmarkError("s3-upload needs --s3-endpoint") }
        let environment = ProcessInfo.processInfo.environment
        let credentials = AWSCredentials(
            accessKeyID: environment["AWS_ACCESS_KEY_ID"] ?? "testing",
            secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? "testing")
        let defaults = S3BlobStore.Configuration(bucket: options.bucket)
        let configuration = S3BlobStore.Configuration(
            bucket: options.bucket, partSize: options.partSize ?? defaults.partSize,
            partsInFlight: options.partsInFlight ?? defaults.partsInFlight,
            unsignedPartPayloads: options.unsignedPartPayloads)
        let store = try S3BlobStore(
            configuration: configuration,
            aws: AWSConfiguration(
                credentials: credentials, region: environment["AWS_REGION"] ?? "us-east-1", endpoint: endpoint,
                timeout: .seconds(120)),
            transport: options.transport.make())
        try await store.createBucket()

        var timings: [Double] = []
        var cpuTimings: [Double] = []
        var bytes = 0
        var etag = ""
        for run in 1...runs {
            let key = try BlobKey(validating: "s3-upload-benchmark-\(getpid())-\(run).bin")
            let chunks = try ChunkSource(file: options.file, bytes: options.bytes)
            defer { chunks.close() }
            let clock = ContinuousClock()
            let start = clock.now
            let cpuStart = ProcessCPUTime.now()
            let writer = try await store.beginWrite(key: key, contentType: "application/octet-stream")
            while let chunk = try chunks.next() { try await writer.append(chunk) }
            let metadata = try await writer.finish()
            timings.append((clock.now - start).seconds)
            cpuTimings.append(ProcessCPUTime.now() - cpuStart)
            bytes = Int(metadata.size)
            guard let stored = try await store.metadata(key), stored.size == metadata.size, metadata.size == Int64(chunks.produced) else {
                throw BenchmarkError("s3-upload: the stored object is not the \(chunks.produced) bytes written")
            }
            etag = try await Self.etag(store: store, endpoint: endpoint, bucket: options.bucket, key: key.rawValue)
            try await store.delete(key)
        }
        timings.sort()
        cpuTimings.sort()
        let median = timings[timings.count / 2]
        return Result(
            scenario: "s3-upload", bytes: bytes, runs: runs, seconds: median, cpuSeconds: cpuTimings[cpuTimings.count / 2],
            megabytesPerSecond: Double(bytes) / median / 1_000_000, partSize: configuration.partSize,
            partsInFlight: configuration.partsInFlight, unsignedPartPayloads: configuration.unsignedPartPayloads,
            transport: options.transport, etag: etag, peakRSSMiB: Double(PeakMemory.peakKiB()) / 1024)
    }

    /// The object's ETag from a HEAD through a presigned URL (the public API reports no ETag): a
    /// multipart ETag is the MD5 of the parts' MD5s, so equal ETags mean equal bytes in equal parts.
    private static func etag(store: S3BlobStore, endpoint: URL, bucket: String, key: String) async throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let signer = AWSSigner(
            credentials: AWSCredentials(
                accessKeyID: environment["AWS_ACCESS_KEY_ID"] ?? "testing",
                secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? "testing"),
            region: environment["AWS_REGION"] ?? "us-east-1", service: "s3")
        let signed = try signer.presign(method: "HEAD", endpoint: endpoint, path: "/\(bucket)/\(key)", expires: 60, date: Date())
        let response = try await URLSessionTransport().send(TransportRequest(method: "HEAD", url: signed.url))
        return (response.header("etag") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }
}

/// The blob's bytes in 64 KiB chunks, from a file or from ``S3UploadScenario/pattern(_:)``.
final class ChunkSource {
    private let descriptor: Int32
    private let total: Int
    private(set) var produced = 0

    init(file: String?, bytes: Int) throws {
        if let file {
            descriptor = open(file, O_RDONLY)
            guard descriptor >= 0 else { throw BenchmarkError("cannot open \(file): errno \(errno)") }
            total = Int.max
        } else {
            descriptor = -1
            total = bytes
        }
    }

    func next() throws -> [UInt8]? {
        if descriptor >= 0 {
            var chunk = [UInt8](repeating: 0, count: S3UploadScenario.chunkSize)
            var filled = 0
            while filled < chunk.count {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
                guard count >= 0 else { throw BenchmarkError("read failed: errno \(errno)") }
                if count == 0 { break }
                filled += count
            }
            guard filled > 0 else { return nil }
            if filled < chunk.count { chunk.removeLast(chunk.count - filled) }
            produced += filled
            return chunk
        }
        guard produced < total else { return nil }
        let count = min(S3UploadScenario.chunkSize, total - produced)
        let start = produced
        let chunk = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = S3UploadScenario.pattern(start + index) }
            initialized = count
        }
        produced += count
        return chunk
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }
}
