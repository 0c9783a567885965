import ExportCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server's download-link secret (the same file as the demo's, so a server on the demo's data directory serves its links), `<data dir>/link-secret` (hex, mode 0600), shared by every worker
/// process on the data directory.
///
/// Several processes may start at once on a fresh directory. Each writes a candidate into a private
/// temp file (`O_CREAT|O_EXCL`, mode 0600) and publishes it with `link(2)`, which fails with `EEXIST`
/// when another process published first; the loser then reads the winner's secret. So exactly one secret
/// ever exists, and it is never visible half-written (a plain write-then-rename would let the last
/// writer replace a secret whose links other processes already sent).
enum LinkSecretFile {
    static func loadOrCreate(root: URL) throws -> [UInt8] {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let path = root.appendingPathComponent("link-secret").path
        if let existing = try read(path) { return existing }
        var generator = SystemRandomNumberGenerator()
        let candidate = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let temporary = path + ".\(getpid()).\(UInt64.random(in: 0...UInt64.max, using: &generator)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ServerError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        defer { unlink(temporary) }
        let text = Array((Hex.encode(candidate) + "\n").utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == text.count, synced == 0 else { throw ServerError("cannot write \(temporary)") }
        if link(temporary, path) == 0 { return candidate }
        let code = errno
        guard code == EEXIST else { throw ServerError("cannot publish \(path): \(String(cString: strerror(code)))") }
        // Another process won the race: use its secret.
        guard let winner = try read(path) else { throw ServerError("\(path) vanished while starting") }
        return winner
    }

    /// The stored secret; `nil` when there is no file yet. A file that exists but is not a valid
    /// secret is an error (replacing it would invalidate every link already sent).
    private static func read(_ path: String) throws -> [UInt8]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            guard access(path, F_OK) != 0 else { throw ServerError("\(path) exists but cannot be read") }
            return nil
        }
        guard let secret = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), secret.count >= 16 else {
            throw ServerError("\(path) does not hold a hex secret of at least 16 bytes; remove it to make a new one")
        }
        // Files written by earlier versions were 0644; the secret signs every link, keep it private.
        chmod(path, 0o600)
        return secret
    }
}
