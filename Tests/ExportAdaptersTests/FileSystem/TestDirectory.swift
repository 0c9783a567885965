import Testing
import ExportCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fresh temp directory owned by one test; `remove()` deletes it.
struct TestDirectory {
    let url: URL
    var path: String { url.path }

    init(_ label: String = "fs") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("membership-export-tests", isDirectory: true)
        url = base.appendingPathComponent("\(label)-\(UUID().uuidString.lowercased())", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func sub(_ name: String) -> URL { url.appendingPathComponent(name, isDirectory: true) }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// The names in a subdirectory, sorted.
    func list(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/" + relative)) ?? []).sorted()
    }

    func write(_ text: String, to relative: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + relative))
    }

    func read(_ relative: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path + "/" + relative)), as: UTF8.self)
    }
}

/// A directory this process cannot create files in, even as root: `/sys` refuses creation with EACCES
/// to everyone; for other users a read-only directory does.
func unwritableDirectory(in directory: TestDirectory) throws -> URL {
    if geteuid() == 0 {
        return URL(fileURLWithPath: "/sys/membership-export-\(UUID().uuidString.lowercased())")
    }
    let locked = directory.sub("locked")
    try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
    chmod(locked.path, 0o500)
    return locked.appendingPathComponent("store")
}

enum FSFixtures {
    static let recipient = EmailAddress("ada@example.com")!
    /// The public URL of a host's download route, for stores whose links nobody follows in the test.
    static let linkBase = URL(string: "https://exports.example.com/downloads")!
    static let start = Date(timeIntervalSince1970: 1_767_225_600)

    static func job(_ id: String, owner: UserID = "u1", createdAt: Date = start, uniqueKey: String? = nil) -> ExportJob {
        ExportJob(
            id: JobID(id)!, owner: owner, recipient: recipient, options: ExportOptions(format: .csv, columns: ExportColumn.standard),
            createdAt: createdAt, uniqueKey: uniqueKey)
    }

    static func bytes(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
    }
}

/// Expects `body` to throw an ``ExportError`` with `code`, and returns it.
@discardableResult
func expectExportError<T>(
    _ code: ExportError.Code, _ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation
) async -> ExportError? {
    do {
        _ = try await body()
        Issue.record("expected ExportError \(code), got success", sourceLocation: sourceLocation)
    } catch let error as ExportError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected ExportError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
