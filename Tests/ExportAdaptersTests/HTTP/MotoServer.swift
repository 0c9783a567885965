import ExportAdapters
import ExportCore
import Foundation
import ExportTestSupport
import Synchronization

/// The moto_server shared by the AWS adapter tests: one process for the whole test run.
///
/// Each test uses its own bucket, queue or table names, so tests run in parallel without resetting
/// moto between them. moto must be installed (`pip install 'moto[server]'`); outside CI
/// (`CI != "true"`) the suites are skipped with a message when it is not.
enum MotoServer {
    static let isInstalled: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import moto.server"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// Whether the moto suites run: moto is installed, or we are in CI where a missing moto must fail.
    static let enabled: Bool = {
        let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
        if !isInstalled && !isCI {
            SkipLog.record("the moto-backed AWS adapter suites (S3, SQS, DynamoDB, SES, pipeline, worker processes)", install: "pip install 'moto[server]'")
        }
        return isInstalled || isCI
    }()

    private static let shared = Mutex<Task<PeerProcess, any Error>?>(nil)

    /// The shared server, started on first use.
    static func peer() async throws -> PeerProcess {
        let task = shared.withLock { task in
            if let task { return task }
            let started = Task { try await start() }
            task = started
            return started
        }
        return try await task.value
    }

    /// Starts a dedicated server (for tests that need different moto settings).
    static func start(environment: [String: String] = [:]) async throws -> PeerProcess {
        guard isInstalled else {
            throw PeerUnavailable(message: "moto is not installed: pip install 'moto[server]'")
        }
        return try await PeerProcess.start(script: "moto_runner.py", environment: environment)
    }

    static let credentials = AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")

    static func configuration(_ peer: PeerProcess, credentials: AWSCredentials = credentials) -> AWSConfiguration {
        AWSConfiguration(credentials: credentials, region: "us-east-1", endpoint: peer.baseURL, timeout: .seconds(30))
    }

    /// A name no other test uses.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.lowercased().prefix(12))"
    }
}

extension MotoServer {
    /// The e-mails moto recorded for one recipient (see ``allSentEmails(_:)``).
    static func sentEmails(_ peer: PeerProcess, to recipient: String) async throws -> [JSONValue] {
        try await allSentEmails(peer).filter { $0["destinations"]?["ToAddresses"]?.arrayValue?.contains(.string(recipient)) == true }
    }

    /// Every message moto's SES has accepted, from the test runner's own `/_tests/ses/messages`
    /// (`Fixtures/moto_runner.py`), which reads SES alone: moto's `/moto-api/data.json` serialises
    /// every service and in moto 5.2 answers 500 whenever any multipart upload with a part is open.
    static func allSentEmails(_ peer: PeerProcess) async throws -> [JSONValue] {
        let response = try await URLSessionTransport().send(
            TransportRequest(method: "GET", url: peer.baseURL.appendingPathComponent("_tests/ses/messages"), timeout: .seconds(120))
        )
        guard response.status == 200 else { throw PeerUnavailable(message: "the runner's SES messages answered \(response.status)") }
        return try JSONValue.parse(response.body).arrayValue ?? []
    }
}
