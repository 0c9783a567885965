/// Where an export job is in its life.
///
/// ```
/// queued ──claim──▶ running ──succeed──▶ succeeded
///    │                │  ▲ └──fail (retryable, attempts left)──▶ retryScheduled ──claim──┘
///    │                │  └──────── lease lost, attempts left (takeover) ───┘
///    │                ├──fail (permanent or attempts exhausted)──▶ failed (dead-lettered)
///    └──cancel──▶ cancelled ◀──cancel (stops at the next heartbeat)───┘
/// ```
public enum JobState: String, Hashable, Sendable, Codable, CaseIterable {
    /// Recorded and queued, not yet started.
    case queued
    /// A worker holds the job under a lease and is exporting.
    case running
    /// An attempt failed with a retryable error; the job waits for its backoff delay.
    case retryScheduled = "retry_scheduled"
    /// The file is stored; the user is (or is about to be) e-mailed a link.
    case succeeded
    /// The export gave up; the user is (or is about to be) told why.
    case failed
    /// The user cancelled the export.
    case cancelled

    /// Whether the job can no longer change state.
    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled: true
        case .queued, .running, .retryScheduled: false
        }
    }
}
