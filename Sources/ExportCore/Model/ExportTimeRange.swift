import Foundation

/// The time range an export covers: memberships active at some moment within `[from, to)`, either
/// end open. A membership is active from its ``Membership/startedAt`` until its ``Membership/endedAt``
/// (or for good without one), so it is in the range when it started before `to` and had not ended by
/// `from`.
public struct ExportTimeRange: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The start (inclusive), or `nil` for no lower bound.
    public var from: Date?
    /// The end (exclusive), or `nil` for no upper bound.
    public var to: Date?

    /// Creates a range.
    ///
    /// - Parameters:
    ///   - from: The start (inclusive), or `nil`.
    ///   - to: The end (exclusive), or `nil`.
    /// - Throws: ``ExportError/Code/invalidRequest`` when both ends are open or `from` is not before `to`.
    public init(from: Date?, to: Date?) throws(ExportError) {
        guard from != nil || to != nil else { throw ExportError(.invalidRequest, "range needs from, to or both") }
        if let from, let to, from >= to { throw ExportError(.invalidRequest, "range.from must be earlier than range.to") }
        self.from = from
        self.to = to
    }

    /// Whether a membership was active at some moment in the range.
    ///
    /// - Parameters:
    ///   - membership: The row.
    /// - Returns: `startedAt < to` and (`endedAt` is `nil` or later than `from`).
    public func contains(_ membership: Membership) -> Bool {
        if let to, membership.startedAt >= to { return false }
        if let from, let ended = membership.endedAt, ended <= from { return false }
        return true
    }

    private static func day(_ date: Date) -> String { String((RFC3339.string(date) ?? "").prefix(10)) }

    /// For people: `2026-01-01 to 2026-02-01`, `from 2026-01-01` or `until 2026-02-01` (dates in UTC;
    /// the end is exclusive).
    public var description: String {
        switch (from, to) {
        case (let from?, let to?): "\(Self.day(from)) to \(Self.day(to))"
        case (let from?, nil): "from \(Self.day(from))"
        case (nil, let to?): "until \(Self.day(to))"
        case (nil, nil): "all time"
        }
    }

    /// For file names: `2026-01-01_2026-02-01`, `2026-01-01_` or `_2026-02-01`.
    public var fileLabel: String { "\(from.map(Self.day) ?? "")_\(to.map(Self.day) ?? "")" }
}
