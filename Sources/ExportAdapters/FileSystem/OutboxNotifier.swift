#if canImport(Glibc)
import Glibc
#endif
import ExportCore
import Foundation

/// A `Notifier` that writes each notification as an RFC 5322 `.eml` file into an outbox directory,
/// for a mail relay (or a person) to pick up.
///
/// - The file is named after the notification's idempotency key (`<key>.eml`, or `key-<sha256>.eml`
///   when the key has characters unsafe in a file name), and is published with `link(2)`, which fails
///   when the name exists: a retry or a second worker never writes a second message, even racing.
/// - The message is written to `.tmp/` inside the outbox first and fsynced, so a relay scanning for
///   `*.eml` never sees a partial file; the outbox directory is fsynced after publishing.
/// - **What a relay must do.** The file's existence is what makes a retry a no-op, so a relay must
///   never delete a sent message: after sending `<name>.eml` it renames it to `sent/<name>.eml`
///   (same file system), and ``send(_:)`` treats a message in `sent/` as already written. Before
///   sending, a relay skips (and may delete) an `outbox/<name>.eml` whose `sent/<name>.eml` exists:
///   that closes the race of a retry checking `sent/` just before the relay's rename. Messages in
///   `sent/` may be pruned only once no retry of their job can happen any more (the job has expired).
/// - Headers: From, To, Subject, Date, Message-ID, MIME-Version, and a `multipart/alternative` body
///   with `text/plain` and `text/html` parts in UTF-8, base64-encoded. The recipient is a validated
///   `EmailAddress`; every header value is still stripped of CR and LF, so no header can be injected.
///   Values in the HTML part are HTML-escaped.
public final class OutboxNotifier: Notifier {
    /// The outbox directory holding the `.eml` files.
    public let outboxDirectory: URL
    let root: String
    let from: EmailAddress
    let fromName: String
    let clock: any ExportClock
    /// Syncs (or not, per the durability) and group-commits the outbox directory's fsyncs.
    let committer: FileCommitter
    var temporaryDirectory: String { root + "/.tmp" }
    var sentDirectory: String { root + "/sent" }

    /// Opens (creating if needed) an outbox.
    ///
    /// - Parameters:
    ///   - directory: The outbox directory; created with its parents when missing.
    ///   - from: The sender address.
    ///   - fromName: The sender's display name.
    ///   - clock: The clock for the `Date` header.
    ///   - durability: What a sent message survives; ``FileDurability/powerLoss`` by default.
    /// - Throws: `ExportError` when the directory cannot be created or used.
    public init(
        directory: URL,
        from: EmailAddress,
        fromName: String = "Membership exports",
        clock: any ExportClock = SystemClock(),
        durability: FileDurability = .powerLoss
    ) throws(ExportError) {
        committer = FileCommitter(durability: durability)
        root = try POSIXFile.prepareRoot(directory)
        outboxDirectory = URL(fileURLWithPath: root, isDirectory: true)
        self.from = from
        self.fromName = fromName
        self.clock = clock
        try POSIXFile.makeDirectory(temporaryDirectory, inside: root)
        try POSIXFile.makeDirectory(sentDirectory, inside: root)
        POSIXFile.removeOrphanedTemporaryFiles(in: temporaryDirectory)
    }

    /// Writes the message unless one with the same idempotency key is already in the outbox, or was
    /// moved to `sent/` by the relay.
    ///
    /// - Parameters:
    ///   - notification: What to say, to whom.
    /// - Throws: `ExportError.Code.storageFull` (retryable) when the disk is full, or another
    ///   `ExportError` when the outbox cannot be written.
    public func send(_ notification: ExportNotification) async throws {
        let name = Self.fileName(forKey: notification.idempotencyKey)
        let destination = root + "/" + name
        if access(destination, F_OK) == 0 || access(sentDirectory + "/" + name, F_OK) == 0 { return }
        let message = render(notification)
        let temporary = temporaryDirectory + "/" + String(getpid()) + "-" + POSIXFile.uniqueName() + ".tmp"
        let fd = try POSIXFile.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
        do throws(ExportError) {
            try POSIXFile.writeAll(fd, Array(message.utf8), path: temporary)
            try POSIXFile.sync(fd, path: temporary, durability: committer.durability)
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        defer { unlink(temporary) }
        if link(temporary, destination) != 0 {
            let code = errno
            if code == EEXIST { return }
            throw POSIXFile.error(code, "publishing", destination)
        }
        // Group-committed: concurrent sends share one fsync of the outbox.
        try await committer.syncDirectories([root])
    }

    /// The file a notification with this idempotency key is (or will be) written to.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    /// - Returns: The `.eml` file's URL.
    public func fileURL(forIdempotencyKey key: String) -> URL {
        URL(fileURLWithPath: root + "/" + Self.fileName(forKey: key))
    }

    /// `<key>.eml` for keys made of `A-Z a-z 0-9 . _ -` (not starting with a dot, at most 100 bytes),
    /// otherwise `key-<sha256 of the key>.eml`.
    static func fileName(forKey key: String) -> String {
        let utf8 = key.utf8
        let safe = (1...100).contains(utf8.count) && utf8.first != UInt8(ascii: ".")
            && utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default:
                    false
                }
            }
        return (safe ? key : "key-" + SHA256Hasher.hash(Array(utf8)).hexString) + ".eml"
    }
}
