import Foundation

/// The time range each run of a schedule covers, computed from the run's own occurrence, so a monthly
/// report covers the month before it and a nightly export the day before it.
///
/// Encoded as its name (`previousPeriod`, `sinceLastRun`). A schedule without a window exports every
/// membership on every run.
public struct ScheduleWindow: Hashable, Sendable, Codable, CustomStringConvertible, NamedValue {
    static let kind = "schedule window"

    /// The window's stable name.
    public let name: String

    private init(name: String) { self.name = name }

    /// From the recurrence's previous occurrence to this one, `[previous, slot)`: consecutive runs
    /// cover consecutive periods, whatever ran before. The first run covers the period before it too
    /// (a monthly schedule created mid-month covers the whole previous month). A period passed over by
    /// a catch-up is in no run; choose ``sinceLastRun`` to have the next run cover it.
    public static let previousPeriod = ScheduleWindow(name: "previousPeriod")
    /// From the last run's occurrence to this one, `[lastRunAt, slot)`, or ``previousPeriod``'s range
    /// for the first run: after downtime, a pause or skipped occurrences, the next run covers
    /// everything since the last one.
    public static let sinceLastRun = ScheduleWindow(name: "sinceLastRun")

    /// Every window.
    public static let all: [ScheduleWindow] = [.previousPeriod, .sinceLastRun]

    /// The window with this name.
    ///
    /// - Parameters:
    ///   - name: `previousPeriod` or `sinceLastRun`.
    public init?(named name: String) {
        guard let value = Self.named(name) else { return nil }
        self = value
    }

    /// The window's name.
    public var description: String { name }

    /// Decodes a window by name.
    ///
    /// - Parameters:
    ///   - decoder: The decoder.
    /// - Throws: A decoding error for an unknown name.
    public init(from decoder: any Decoder) throws {
        self = try Self.decodeName(from: decoder)
    }

    /// Encodes the name.
    ///
    /// - Parameters:
    ///   - encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws {
        try encodeName(to: encoder)
    }
}
