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
}
