/// What an acknowledged write of the file-system adapters survives.
///
/// Every write goes through a temp file and a `rename`, under either setting, so no reader ever sees a
/// half-written record, queue message, export file or e-mail, and a process killed at any instant
/// (SIGKILL, a crash, an out-of-memory kill) leaves every record whole: the kernel's page cache
/// outlives the process. The settings differ in what happens when the *machine* stops:
///
/// - ``powerLoss`` (the default): files are fsynced before they are renamed into place, and the
///   directories after, before a call returns. An acknowledged job state change, queue move, file or
///   e-mail survives a power loss or a kernel panic. Directory fsyncs are group-committed: concurrent
///   calls that renamed into the same directory share one fsync of it.
/// - ``processCrash``: nothing is fsynced. An acknowledged write survives the process being killed,
///   but not a power loss or a kernel panic: the kernel writes the page cache back on its own schedule
///   (on Linux's ext4 within about 5 to 30 seconds), so the last seconds of changes can be lost or
///   come back partly applied. For hosts on battery-backed or replicated storage, scratch
///   deployments, and benchmarks of the adapters' own cost.
public struct FileDurability: Hashable, Sendable, CustomStringConvertible {
    private enum Level: Hashable, Sendable {
        case powerLoss
        case processCrash
    }

    private let level: Level

    private init(_ level: Level) { self.level = level }

    /// Acknowledged writes survive a power loss: files and directories are fsynced (the default).
    public static let powerLoss = FileDurability(.powerLoss)

    /// Acknowledged writes survive the process being killed, not a power loss: nothing is fsynced.
    public static let processCrash = FileDurability(.processCrash)

    /// Whether writes are fsynced.
    var syncs: Bool { level == .powerLoss }

    /// `power-loss` or `process-crash`.
    public var description: String { level == .powerLoss ? "power-loss" : "process-crash" }
}
