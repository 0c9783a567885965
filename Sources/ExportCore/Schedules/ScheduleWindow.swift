import Foundation

/// The time range each run of a schedule covers, computed from the run's own occurrence, so a monthly
/// report covers the month before it and a nightly export the day before it.
///
/// Encoded as its name (`previousPeriod`, `sinceLastRun`). A schedule without a window exports every
/// membership on every run.
public struct ScheduleWindow: Hashable, Sendable, Codable, CustomStringConvertible {
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
        guard let window = Self.all.first(where: { $0.name == name }) else { return nil }
        self = window
    }

    /// The window's name.
    public var description: String { name }

    /// Decodes a window by name.
    ///
    /// - Parameters:
    ///   - decoder: The decoder.
    /// - Throws: A decoding error for an unknown name.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let window = ScheduleWindow(named: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown schedule window \(name.prefix(40))")
        }
        self = window
    }

    /// Encodes the name.
    ///
    /// - Parameters:
    ///   - encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
