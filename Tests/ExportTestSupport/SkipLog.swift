import Foundation

/// Records a test group skipped because a peer is missing, for `Scripts/test-all.sh`, which prints
/// every such line at the end of the run (a notice printed at line 7 of 1,400 is not seen).
///
/// Appends `SKIPPED<TAB>what<TAB>how to install` to the file named by `MEMBERSHIP_EXPORT_SKIP_LOG`
/// (nothing when it is unset). Under `CI=true` nothing is skipped: those tests fail instead.
public enum SkipLog {
    /// Prints the skip and appends it to the skip log.
    ///
    /// - Parameters:
    ///   - what: The skipped test group.
    ///   - install: How to install the missing peer.
    public static func record(_ what: String, install: String) {
        print("⚠️  SKIPPED: \(what). Install: \(install)")
        guard let path = ProcessInfo.processInfo.environment["MEMBERSHIP_EXPORT_SKIP_LOG"], !path.isEmpty else { return }
        let line = Data("SKIPPED\t\(what)\t\(install)\n".utf8)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: line)
    }
}
