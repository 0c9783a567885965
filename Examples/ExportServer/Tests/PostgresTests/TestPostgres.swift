import ExportPostgres
import Foundation
import Logging
import PostgresNIO
import PostgresNIOPort
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL 15 server of the tests' own: `initdb` in a temporary directory, SCRAM-SHA-256 password
/// authentication over TCP on a free 127.0.0.1 port, started as the `postgres` system user when the tests
/// run as root (PostgreSQL refuses to run as root). One server per test process, one database per test;
/// it is stopped when the process exits.
///
/// When the server binaries are missing a local run records a skip (`MEMBERSHIP_EXPORT_SKIP_LOG`, which
/// Scripts/test-all.sh summarises); under `CI=true` the test fails with how to install them.
final class TestPostgres: Sendable {
    static let install = "apt-get install postgresql-15 (or set PG_BIN to the directory of initdb, pg_ctl and postgres)"
    static let username = "export_test"

    let port: Int
    let password: String
    let directory: String
    let binaries: String

    private static let shared = Mutex<Task<TestPostgres?, any Error>?>(nil)
    private static let databaseCounter = Atomic<Int>(0)

    /// The process's server, started on first use; `nil` (after recording the skip) when PostgreSQL is
    /// missing outside CI.
    static func server() async throws -> TestPostgres? {
        let task = shared.withLock { task in
            if let task { return task }
            let started = Task { try await start() }
            task = started
            return started
        }
        return try await task.value
    }

    private init(port: Int, password: String, directory: String, binaries: String) {
        self.port = port
        self.password = password
        self.directory = directory
        self.binaries = binaries
    }

    static func findBinaries() -> String? {
        var candidates: [String] = []
        if let bin = ProcessInfo.processInfo.environment["PG_BIN"] { candidates.append(bin) }
        candidates.append("/usr/lib/postgresql/15/bin")
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            candidates += versions.sorted().reversed().map { "/usr/lib/postgresql/\($0)/bin" }
        }
        candidates += ["/usr/local/bin", "/opt/homebrew/bin", "/usr/bin"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") && FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl") }
    }

    private static func start() async throws -> TestPostgres? {
        guard let binaries = findBinaries() else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                throw TestPostgresError("PostgreSQL's server (initdb, pg_ctl, postgres) is missing: \(install)")
            }
            recordSkip("Postgres adapter tests (PostgreSQL server missing)")
            return nil
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("export-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let password = UUID().uuidString
        try password.write(toFile: directory + "/pwfile", atomically: true, encoding: .utf8)
        let asRoot = getuid() == 0
        if asRoot { try run("/bin/chown", ["-R", "postgres:postgres", directory]) }
        func pg(_ tool: String, _ arguments: [String]) throws {
            if asRoot {
                try run("/usr/sbin/runuser", ["-u", "postgres", "--", binaries + "/" + tool] + arguments)
            } else {
                try run(binaries + "/" + tool, arguments)
            }
        }
        try pg("initdb", [
            "-D", directory + "/data", "-U", username, "--pwfile=" + directory + "/pwfile", "--auth-host=scram-sha-256",
            "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
        ])
        // TCP from 127.0.0.1 only, with SCRAM-SHA-256 passwords (what initdb's --auth-host wrote), as a deployment would.
        try "host all all 127.0.0.1/32 scram-sha-256\n".write(toFile: directory + "/data/pg_hba.conf", atomically: false, encoding: .utf8)
        // TLS offered (a self-signed certificate for 127.0.0.1), not required: the sslmode tests connect both ways.
        try run("/usr/bin/env", [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", directory + "/data/server.key", "-out", directory + "/data/server.crt",
        ])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: directory + "/data/server.key")
        try FileManager.default.copyItem(atPath: directory + "/data/server.crt", toPath: directory + "/root.crt")
        if asRoot {
            try run("/bin/chown", ["postgres:postgres", directory + "/data/pg_hba.conf", directory + "/data/server.key", directory + "/data/server.crt"])
        }
        var lastError: (any Error)?
        for _ in 0..<5 {  // a free port can be taken between the probe and the bind
            let port = try freePort()
            do {
                try pg("pg_ctl", [
                    "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "start", "-o",
                    "-c listen_addresses=127.0.0.1 -p \(port) -c unix_socket_directories=\(directory) -c max_connections=200 -c fsync=off -c ssl=on",
                ])
                let server = TestPostgres(port: port, password: password, directory: directory, binaries: binaries)
                stopAtExit(server)
                return server
            } catch {
                lastError = error
            }
        }
        let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
        throw TestPostgresError("PostgreSQL did not start: \(lastError.map { "\($0)" } ?? "?")\n\(log.suffix(2000))")
    }

    /// The connection settings of a database of this server.
    func configuration(database: String) -> PostgresClient.Configuration {
        PostgresClient.Configuration(host: "127.0.0.1", port: port, username: Self.username, password: password, database: database, tls: .disable)
    }

    /// The server's self-signed certificate, the root a `verify-full` client must trust.
    var rootCertificate: String { directory + "/root.crt" }

    /// `postgres://…` for the server's command-line tools and the export server.
    func url(database: String) -> String { "postgres://\(Self.username):\(password)@127.0.0.1:\(port)/\(database)" }

    /// Creates a fresh database and runs `body` with a running client on it.
    func withDatabase<T: Sendable>(
        _ prefix: String = "t", _ body: (PostgresNIODatabase, String) async throws -> T
    ) async throws -> T {
        let name = "\(prefix)_\(Self.databaseCounter.add(1, ordering: .relaxed).newValue)_\(UUID().uuidString.prefix(6).lowercased())"
        try await withClient(database: "postgres") { admin in
            _ = try await admin.execute(ExportSQLStatement("CREATE DATABASE \(name)"))
        }
        return try await withClient(database: name) { try await body($0, name) }
    }

    /// Runs `body` with a running client.
    func withClient<T: Sendable>(database: String, _ body: (PostgresNIODatabase) async throws -> T) async throws -> T {
        var configuration = configuration(database: database)
        configuration.options.maximumConnections = 24
        let client = PostgresClient(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(PostgresNIODatabase(client: client))
        }
    }

    // MARK: Process plumbing

    private static func recordSkip(_ what: String) {
        print("⚠️  SKIPPED: \(what). Install: \(install)")
        guard let path = ProcessInfo.processInfo.environment["MEMBERSHIP_EXPORT_SKIP_LOG"], !path.isEmpty,
            let handle = FileHandle(forWritingAtPath: path) ?? (FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil)
        else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data("SKIPPED\t\(what)\t\(install)\n".utf8))
    }

    /// Runs a program to its end with posix_spawn and waitpid (Foundation's `Process.waitUntilExit` can
    /// miss the child's exit when called from a concurrency thread); its output goes to a temporary file.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("pg-tool-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw TestPostgresError("\(executable) could not be started: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw TestPostgresError("\(executable) \(arguments.joined(separator: " ")) failed (status \(status)): \(text.suffix(2000))")
        }
        return text
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestPostgresError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestPostgresError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static let running = Mutex<TestPostgres?>(nil)

    private static func stopAtExit(_ server: TestPostgres) {
        running.withLock { $0 = server }
        atexit {
            guard let server = TestPostgres.running.withLock({ $0 }) else { return }
            let arguments = ["-D", server.directory + "/data", "-m", "immediate", "-w", "stop"]
            if getuid() == 0 {
                _ = try? TestPostgres.run("/usr/sbin/runuser", ["-u", "postgres", "--", server.binaries + "/pg_ctl"] + arguments)
            } else {
                _ = try? TestPostgres.run(server.binaries + "/pg_ctl", arguments)
            }
            try? FileManager.default.removeItem(atPath: server.directory)
        }
    }
}

struct TestPostgresError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
