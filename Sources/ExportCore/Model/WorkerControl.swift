import Foundation

/// The shared switch every ``ExportWorker`` reads before it receives: whether workers are paused, and
/// who changed it when. Kept by a ``WorkerControlStore`` so every instance of a host sees the same one.
public struct WorkerControl: Hashable, Sendable, Codable {
    /// Whether workers are paused: a paused worker finishes what it runs and receives nothing new.
    public var paused: Bool
    /// When the switch was last changed, or `nil` when it never was.
    public var changedAt: Date?
    /// Who last changed it, or `nil` when nobody did.
    public var changedBy: OperatorID?
    /// Why, as the operator said; `nil` when not given.
    public var reason: String?

    /// Creates a switch; with no arguments, workers run.
    ///
    /// - Parameters:
    ///   - paused: Whether workers are paused; `false` by default.
    ///   - changedAt: When it was changed.
    ///   - changedBy: Who changed it.
    ///   - reason: Why.
    public init(paused: Bool = false, changedAt: Date? = nil, changedBy: OperatorID? = nil, reason: String? = nil) {
        self.paused = paused
        self.changedAt = changedAt
        self.changedBy = changedBy
        self.reason = reason
    }
}
