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
    /// The columns of every export: the standard ones plus the source's extra ones.
    var attributeColumns: [String] = ["seat_count"]
    /// The format of new exports: the data directory's own on a resumed run.
    var format = ExportFormat.csv
    /// Where "ready" e-mails point (`--download-address`); nil: the file's signed link.
    var downloadAddress: DownloadAddress?

    /// The synthetic data set's parameters, stored in the data directory so a resumed run (and every
    /// worker process) exports the same data.
    struct Dataset: Codable, Equatable {
        var users: Int
        var minimumRows: Int
        var maximumRows: Int
        var seed: UInt64
        /// The format of the data directory's exports (absent in files of earlier versions).
        var format: String?
    }

    /// The ports of the backend, with the demo's observer. With `--download-address`, "ready" e-mails
    /// carry the stable download address of a host (`Examples/ExportServer` serves
    /// `http://localhost:8080/api/v1`), which checks the user and answers with a fresh link of minutes;
    /// without it they carry the file's signed link, which the data directory's secret verifies offline.
    func ports(observer: any ExportObserver) -> ExportPorts {
        var ports = ExportPorts(jobStore: jobs, queue: queue, blobStore: blobs, notifier: notifier, observer: observer)
        ports.settings.downloadAddress = downloadAddress
        return ports
    }

    static func make(_ options: DemoOptions) async throws -> DemoBackend {
        let root = URL(fileURLWithPath: options.dataDirectory, isDirectory: true)
        var notes: [String] = []
        let (base, owners): (any MembershipSource, [UserID])
        var attributes = ["seat_count"]
        var format = options.format
        if let input = options.inputFile {
            let file = try FileMembershipSource(fileURL: URL(fileURLWithPath: input))
            base = file
            if let user = options.user, !file.owners.contains(UserID(user)) {
                let some = file.owners.prefix(5).map(\.rawValue).joined(separator: ", ")
                throw DemoError("\(input) has no memberships of user \(user); its users are \(some)\(file.owners.count > 5 ? ", …" : "") (or leave out --user to export every user)")
            }
            owners = options.user.map { [UserID($0)] } ?? file.owners
            attributes = file.attributeNames
            notes.append("source: \(input) (\(file.count) memberships, \(file.owners.count) users, columns: standard\(attributes.isEmpty ? "" : " + " + attributes.joined(separator: ", ")))")
        } else {
            let dataset = try loadOrCreateDataset(options, root: options.backend == .file ? root : nil, notes: &notes)
            format = dataset.format.flatMap(ExportFormat.init(identifier:)) ?? options.format
            let synthetic = SyntheticMembershipSource(
                seed: dataset.seed, users: dataset.users, minimumRows: dataset.minimumRows, maximumRows: dataset.maximumRows)
            base = synthetic
            owners = synthetic.owners
        }
        var backend = try await make(options, root: root, base: base, owners: owners, notes: notes)
        backend.attributeColumns = attributes
        backend.format = format
        backend.downloadAddress = options.downloadAddress
        return backend
    }

    private static func make(
        _ options: DemoOptions, root: URL, base: any MembershipSource, owners: [UserID], notes: [String]
    ) async throws -> DemoBackend {
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
            let warnings = ClosureObserver { event in
                if event.name == .corruptRecord { FileHandle.standardError.write(Data("warning: \(event)\n".utf8)) }
            }
            let files = try FileSystemBackend(
                directory: root, linkSecret: try LinkSecretFile.loadOrCreate(root: root),
                linkBaseURL: URL(string: "http://localhost:8080/downloads")!,  // an example may assume a local host
                from: try EmailAddress(validating: "exports@example.com"), observer: warnings, durability: options.durability)
            return DemoBackend(
                jobs: files.jobStore, queue: files.queue, blobs: files.blobStore, notifier: files.notifier, source: source, owners: owners,
                filesDirectory: root.appendingPathComponent("files/blobs"), outboxDirectory: files.notifier.outboxDirectory, notes: notes)
        case .aws:
            return try await makeAWS(options.aws, source: source, owners: owners, notes: notes)
        }
    }

    private static func loadOrCreateDataset(_ options: DemoOptions, root: URL?, notes: inout [String]) throws -> Dataset {
        let wanted = Dataset(
            users: options.users, minimumRows: options.minimumRows, maximumRows: options.maximumRows, seed: options.seed,
            format: options.format.identifier)
        guard let root else { return wanted }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let file = root.appendingPathComponent("dataset.json")
        if let data = try? Data(contentsOf: file) {
            var stored = try JSONDecoder().decode(Dataset.self, from: data)
            if options.workerMode { return stored }
            var differences: [String] = []
            if options.datasetFlagsGiven, stored.users != wanted.users { differences.append("--users \(wanted.users) (it has \(stored.users))") }
            if options.datasetFlagsGiven, (stored.minimumRows, stored.maximumRows) != (wanted.minimumRows, wanted.maximumRows) {
                differences.append("--rows \(wanted.minimumRows)-\(wanted.maximumRows) (it has \(stored.minimumRows)-\(stored.maximumRows))")
            }
            if options.datasetFlagsGiven, stored.seed != wanted.seed { differences.append("--seed \(wanted.seed) (it has \(stored.seed))") }
            if options.formatGiven, let format = stored.format, format != wanted.format {
                differences.append("--format \(wanted.format ?? "") (its exports are \(format))")
            }
            guard differences.isEmpty else {
                throw DemoError(
                    "\(root.path) already holds a data set that these flags would change: \(differences.joined(separator: ", ")). "
                        + "A data directory resumes its own data set; to start another, add --data-dir with a new directory "
                        + "(or delete \(root.path)). Flags such as --workers, --fail-rate and --max-attempts apply to any run.")
            }
            if stored.format == nil {
                stored.format = ExportFormat.csv.identifier
            }
            if stored.users != wanted.users || stored.seed != wanted.seed {
                notes.append("resuming the data set stored in \(file.path) (\(stored.users) users, seed \(stored.seed))")
            }
            return stored
        }
        try JSONEncoder().encode(wanted).write(to: file, options: .atomic)
        return wanted
    }
}
