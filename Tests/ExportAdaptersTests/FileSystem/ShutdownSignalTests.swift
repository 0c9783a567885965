import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT stop every executable gracefully: running exports get the grace period, the
/// rest are handed back and named, and the process exits 0 (it used to die with SIGILL, exit 132).
/// Real processes, so the test waits on real time.
@Suite("Examples stop on SIGTERM and SIGINT", .serialized)
struct ShutdownSignalTests {
    static var binaries: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent() }

    @Test("the demo, mid-export: exit 0, names what it handed back, and a rerun finishes it", arguments: ["SIGTERM", "SIGINT"])
    func demo(_ name: String) async throws {
        let number = name == "SIGTERM" ? SIGTERM : SIGINT
        let demo = CrashRecoveryTests.demo
        try #require(FileManager.default.isExecutableFile(atPath: demo.path), "build the demo first: swift build --build-tests")
        let directory = try TestDirectory("demo-signal")
        defer { directory.remove() }
        // Pages of 100 rows at 1 s each. Seed 11 gives the three users 1,554, 386 and 3,171 rows, so
        // whichever two run first, the other one still has 11 s or more to go when the first finishes
        // (the demo prints progress only when a job finishes): more than the 5 s grace period, so
        // something is always handed back. Users of one size made that a race with the grace period.
        let arguments = ["--data-dir", directory.path + "/data", "--users", "3", "--rows", "200-5000", "--seed", "11",
                         "--page-size", "100", "--page-delay", "1000", "--workers", "2"]
        let run = try RunningProcess(demo, arguments: arguments)
        #expect(try await run.waitFor("exporting 3 users", seconds: 30), "\(run.output)")
        // Signal once an export has written rows, however slow the machine is: a held lease alone is
        // not enough (under load the claim can still be committing, so nothing is running yet).
        let deadline = Date().addingTimeInterval(60)
        while run.output.range(of: #"finished, [1-9][0-9]* rows"#, options: .regularExpression) == nil, Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(run.output.range(of: #"finished, [1-9][0-9]* rows"#, options: .regularExpression) != nil, "no rows within 60 s: \(run.output)")
        run.signal(number)
        let result = try await run.finish(seconds: 30)
        #expect(result.reason == .exit && result.status == 0, "\(result.output)")
        #expect(result.output.contains("\(name) received"), "\(result.output)")
        #expect(result.output.contains("handed back to the queue: "), "\(result.output)")
        #expect(!result.output.contains("succeeded │"), "a stopped run prints no summary")
        // Run again (without the slow pages): the handed-back jobs are finished at once, none lost.
        let rerun = try RunningProcess(demo, arguments: Array(arguments.dropLast(4)) + ["--quiet"])
        let second = try await rerun.finish(seconds: 60)
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("3 succeeded, 0 failed"), "\(second.output)")
    }

    @Test("export-aws-worker: exit 0 on SIGTERM, its failed receives logged")
    func awsWorker() async throws {
        let worker = Self.binaries.appendingPathComponent("export-aws-worker")
        try #require(FileManager.default.isExecutableFile(atPath: worker.path), "build first: swift build --build-tests")
        // Nothing listens on port 9: every receive fails, fast.
        let environment = [
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "EXPORT_TABLE": "t", "EXPORT_BUCKET": "b",
            "EXPORT_QUEUE_URL": "http://127.0.0.1:9/000000000000/q", "EXPORT_DLQ_URL": "http://127.0.0.1:9/000000000000/q-dlq",
            "EXPORT_SENDER": "exports@example.com", "MEMBERSHIPS_URL_TEMPLATE": "http://127.0.0.1:9/users/{owner}/memberships",
            "EXPORT_RECONCILE_SECONDS": "0",
        ]
        let run = try RunningProcess(worker, environment: environment)
        #expect(try await run.waitFor("worker.receiveFailed", seconds: 30), "\(run.output)")
        run.signal(SIGTERM)
        let result = try await run.finish(seconds: 30)
        #expect(result.reason == .exit && result.status == 0, "status \(result.status) \(result.reason): \(result.output)")
        #expect(result.output.contains("SIGTERM received"), "\(result.output)")
        #expect(result.output.contains("stopped;"), "\(result.output)")
    }

    @Test("export-aws-worker: --help answers, and every missing setting is named at once")
    func awsWorkerConfiguration() async throws {
        let worker = Self.binaries.appendingPathComponent("export-aws-worker")
        try #require(FileManager.default.isExecutableFile(atPath: worker.path), "build first: swift build --build-tests")
        let help = try await RunningProcess(worker, arguments: ["--help"], environment: [:]).finish(seconds: 30)
        #expect(help.status == 0)
        #expect(help.output.contains("MEMBERSHIPS_FIELD_<COLUMN>") && help.output.contains("EXPORT_QUEUE_URL"), "\(help.output)")
        let missing = try await RunningProcess(worker, environment: ["MEMBERSHIPS_FIELD_MEMBERSHIP_ID": "membership_id"]).finish(seconds: 30)
        #expect(missing.status == 64)
        for name in ["EXPORT_TABLE", "EXPORT_BUCKET", "EXPORT_QUEUE_URL", "EXPORT_DLQ_URL", "EXPORT_SENDER", "MEMBERSHIPS_URL_TEMPLATE"] {
            #expect(missing.output.contains("\(name) is not set"), "\(name): \(missing.output)")
        }
        #expect(!missing.output.contains("AWS_REGION"), "the region defaults to us-east-1, as in the demo")
        #expect(!missing.output.contains("AWS_ACCESS_KEY_ID"), "credentials come from the default chain, not only the key variables")
        #expect(help.output.contains("AWS_WEB_IDENTITY_TOKEN_FILE") && help.output.contains("IMDSv2"), "\(help.output)")

        // Every setting but no credential source: the start-up check lists what the chain tried.
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("worker-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let noCredentials = try await RunningProcess(worker, environment: [
            "HOME": home.path, "AWS_EC2_METADATA_DISABLED": "true", "EXPORT_TABLE": "t", "EXPORT_BUCKET": "b",
            "EXPORT_QUEUE_URL": "http://127.0.0.1:9/q", "EXPORT_DLQ_URL": "http://127.0.0.1:9/d", "EXPORT_SENDER": "a@example.com",
            "MEMBERSHIPS_URL_TEMPLATE": "http://127.0.0.1:9/users/{owner}/memberships",
        ]).finish(seconds: 30)
        #expect(noCredentials.status == 64, "\(noCredentials.output)")
        for tried in ["no AWS credentials found", "environment: AWS_ACCESS_KEY_ID is not set", "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set",
                      "shared files (profile default): neither \(home.path)/.aws/credentials", "container:",
                      "instance metadata (IMDSv2): AWS_EC2_METADATA_DISABLED is true"] {
            #expect(noCredentials.output.contains(tried), "\(tried): \(noCredentials.output)")
        }
        let unknown = try await RunningProcess(worker, environment: ["MEMBERSHIPS_FIELD_ID": "x"]).finish(seconds: 30)
        #expect(unknown.output.contains("MEMBERSHIPS_FIELD_ID is not a column"), "\(unknown.output)")
        // A repair delay too large for a Duration in milliseconds is refused, not a trap at start-up.
        for text in ["1e300", "0"] {
            let requeue = try await RunningProcess(worker, environment: ["EXPORT_REQUEUE_SECONDS": text]).finish(seconds: 30)
            #expect(requeue.status == 64, "\(text): \(requeue.output)")
            #expect(requeue.output.contains("EXPORT_REQUEUE_SECONDS must be from 1 to 31536000"), "\(text): \(requeue.output)")
        }
    }
}
