import ExportAdapters
import ExportCore
import Foundation

/// The five ports the demo runs on, and where their data lives.
struct DemoBackend {
    var jobs: any JobStore
    var queue: any Queue
    var blobs: any BlobStore
    var notifier: any Notifier
    var source: any MembershipSource
    var owners: [UserID]
    var filesDirectory: URL?
    var outboxDirectory: URL?
    var memoryNotifier: InMemoryNotifier?
    /// The S3 bucket of the files, on the AWS backend.
    var bucket: String?
    var notes: [String] = []

    /// The synthetic data set's parameters, stored in the data directory so a resumed run (and every
    /// worker process) exports the same data.
    struct Dataset: Codable, Equatable {
        var users: Int
        var minimumRows: Int
        var maximumRows: Int
        var seed: UInt64
    }

    static func make(_ options: DemoOptions) async throws -> DemoBackend {
        let root = URL(fileURLWithPath: options.dataDirectory, isDirectory: true)
        var notes: [String] = []
        let (base, owners): (any MembershipSource, [UserID])
        if let input = options.inputFile {
            let file = try FileMembershipSource(fileURL: URL(fileURLWithPath: input))
            base = file
            owners = options.user.map { [UserID($0)] } ?? file.owners
            notes.append("source: \(input) (\(file.count) memberships, \(file.owners.count) users)")
        } else {
            let dataset = try loadOrCreateDataset(options, root: options.backend == .file ? root : nil, notes: &notes)
            let synthetic = SyntheticMembershipSource(
                seed: dataset.seed, users: dataset.users, minimumRows: dataset.minimumRows, maximumRows: dataset.maximumRows)
            base = synthetic
            owners = synthetic.owners
        }
        let source: any MembershipSource =
            options.failureRate > 0 || options.pageDelay > .zero
            ? FlakyMembershipSource(base: base, failureRate: options.failureRate, pageDelay: options.pageDelay, seed: options.seed &+ UInt64(getpid()))
            : base
        switch options.backend {
        case .memory:
            let notifier = InMemoryNotifier()
            return DemoBackend(
                jobs: InMemoryJobStore(), queue: InMemoryQueue(), blobs: InMemoryBlobStore(), notifier: notifier, source: source,
                owners: owners, memoryNotifier: notifier, notes: notes)
        case .file:
            let files = try FileSystemBackend(
                directory: root, linkSecret: try LinkSecretFile.loadOrCreate(root: root), from: EmailAddress("exports@example.com")!,
                onCorruptFile: { report in FileHandle.standardError.write(Data("warning: \(report)\n".utf8)) })
            return DemoBackend(
                jobs: files.jobStore, queue: files.queue, blobs: files.blobStore, notifier: files.notifier, source: source, owners: owners,
                filesDirectory: root.appendingPathComponent("files/blobs"), outboxDirectory: files.notifier.outboxDirectory, notes: notes)
        case .aws:
            return try await makeAWS(options.aws, source: source, owners: owners, notes: notes)
        }
    }

    private static func loadOrCreateDataset(_ options: DemoOptions, root: URL?, notes: inout [String]) throws -> Dataset {
        let wanted = Dataset(users: options.users, minimumRows: options.minimumRows, maximumRows: options.maximumRows, seed: options.seed)
        guard let root else { return wanted }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let file = root.appendingPathComponent("dataset.json")
        if let data = try? Data(contentsOf: file) {
            let stored = try JSONDecoder().decode(Dataset.self, from: data)
            if stored != wanted && options.datasetFlagsGiven && !options.workerMode {
                notes.append("resuming the data set stored in \(file.path) (\(stored.users) users, seed \(stored.seed)); flags for a new data set need a new --data-dir")
            }
            return stored
        }
        try JSONEncoder().encode(wanted).write(to: file, options: .atomic)
        return wanted
    }
}
