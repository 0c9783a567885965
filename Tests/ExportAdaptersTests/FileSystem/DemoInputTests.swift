import Foundation
import Testing

/// The example executable run on an input file, as a user would (a real process).
@Suite("Example: --input mode")
struct DemoInputTests {
    @Test("user ids with spaces, non-ASCII or '@' still get a valid recipient; the run completes")
    func awkwardUserIDs() throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.demo.path), "build the demo first: swift build --build-tests")
        let directory = try TestDirectory("demo-input")
        defer { directory.remove() }
        try directory.write(
            """
            membership_id,user_id,organization_id,organization_name,plan,role,status,started_at,ended_at,renews_at,amount,currency
            m1,Ada Lovelace,o1,Acme,pro,admin,active,2024-03-01T09:30:00Z,,,,
            m2,Zoë,o1,Acme,pro,member,active,2024-03-01T09:30:00Z,,,,
            m3,a@b,o1,Acme,pro,member,active,2024-03-01T09:30:00Z,,,,
            m4,plain-id,o1,Acme,pro,member,active,2024-03-01T09:30:00Z,,,,

            """, to: "members.csv")
        let process = Process()
        process.executableURL = CrashRecoveryTests.demo
        process.arguments = ["--input", directory.path + "/members.csv", "--backend", "memory", "--quiet", "--data-dir", directory.path + "/data"]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(stderr)")
    }

    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let result = try await RunningProcess(CrashRecoveryTests.demo, arguments: arguments).finish(seconds: 120)
        return (result.status, result.output)
    }

    @Test("Examples/memberships.jsonl through --input and a JSON Lines export comes back byte for byte; the CSV sample has the same rows")
    func sampleRoundTrip() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.demo.path), "build the demo first: swift build --build-tests")
        let directory = try TestDirectory("demo-roundtrip")
        defer { directory.remove() }
        let sample = CrashRecoveryTests.packageRoot.appendingPathComponent("Examples/memberships.jsonl")
        for (input, data) in [("jsonl", "a"), ("csv", "b")] {
            let path = CrashRecoveryTests.packageRoot.appendingPathComponent("Examples/memberships.\(input)").path
            let result = try await Self.run(["--input", path, "--format", "jsonl", "--quiet", "--data-dir", directory.path + "/" + data])
            #expect(result.status == 0, "\(result.output)")
            let exports = directory.path + "/" + data + "/files/blobs/exports"
            let names = try FileManager.default.contentsOfDirectory(atPath: exports).filter { $0.hasSuffix(".jsonl") }
            #expect(names.count == 3)
            let lines = try names.flatMap { name in
                try String(contentsOfFile: exports + "/" + name, encoding: .utf8).split(separator: "\n").map(String.init)
            }.sorted()
            let expected = try String(contentsOf: sample, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines == expected, "from \(input)")
        }
    }

    @Test("--user naming nobody in the file is an error that lists the file's users")
    func unknownUser() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.demo.path), "build the demo first: swift build --build-tests")
        let directory = try TestDirectory("demo-user")
        defer { directory.remove() }
        let path = CrashRecoveryTests.packageRoot.appendingPathComponent("Examples/memberships.csv").path
        let result = try await Self.run(["--input", path, "--user", "u-99", "--data-dir", directory.path + "/data"])
        #expect(result.status == 1)
        #expect(result.output.contains("no memberships of user u-99") && result.output.contains("u-41, u-42, u-43"), "\(result.output)")
    }

    @Test("flags that would change an existing data directory's data set or format are refused, saying to use a new --data-dir")
    func changedDataSetIsRefused() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.demo.path), "build the demo first: swift build --build-tests")
        let directory = try TestDirectory("demo-modes")
        defer { directory.remove() }
        let data = ["--data-dir", directory.path + "/data", "--quiet"]
        let first = try await Self.run(data + ["--users", "3", "--rows", "1-2"])
        #expect(first.status == 0, "\(first.output)")
        for change in [["--users", "5", "--rows", "1-2"], ["--format", "csv.gz"], ["--format", "jsonl"], ["--users", "3", "--rows", "1-2", "--seed", "7"]] {
            let result = try await Self.run(data + change)
            #expect(result.status == 1, "\(change): \(result.output)")
            #expect(result.output.contains("--data-dir with a new directory"), "\(change): \(result.output)")
        }
        // What applies to any run is applied: a rerun with other workers resumes, and says so.
        let resumed = try await Self.run(data + ["--workers", "2", "--fail-rate", "0.5"])
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.output.contains("3 succeeded"), "\(resumed.output)")
    }

    @Test("--bom starts CSV files with a UTF-8 BOM (none without it); --quiet prints one summary line, no box")
    func byteOrderMarkAndQuiet() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.demo.path), "build the demo first: swift build --build-tests")
        let directory = try TestDirectory("demo-bom")
        defer { directory.remove() }
        for (flag, data) in [(["--bom"], "a"), ([], "b")] {
            let result = try await Self.run(["--users", "2", "--rows", "1-2", "--quiet", "--data-dir", directory.path + "/" + data] + flag)
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("2 succeeded, 0 failed") && !result.output.contains("┌"), "\(result.output)")
            let exports = directory.path + "/" + data + "/files/blobs/exports"
            for name in try FileManager.default.contentsOfDirectory(atPath: exports) {
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: exports + "/" + name)).prefix(3))
                #expect((bytes == [0xEF, 0xBB, 0xBF]) == !flag.isEmpty, "\(name) \(flag)")
            }
        }
    }

    @Test("an AWS endpoint that refuses the connection says so and what to check, not an NSURLError number")
    func unreachableEndpoint() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.demo.path), "build the demo first: swift build --build-tests")
        let process = try RunningProcess(
            CrashRecoveryTests.demo, arguments: ["--backend", "aws", "--endpoint", "http://127.0.0.1:9", "--users", "1"],
            environment: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "PATH": "/usr/bin:/bin"])
        let result = try await process.finish(seconds: 60)
        #expect(result.status == 1)
        #expect(result.output.contains("cannot connect to http://127.0.0.1:9: is the service running?"), "\(result.output)")
        #expect(!result.output.contains("-1004"), "\(result.output)")
    }
}

