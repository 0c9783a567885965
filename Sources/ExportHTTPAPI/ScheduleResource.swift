import ExportCore
import Foundation

/// The JSON form of a schedule (`#/components/schemas/Schedule` in `Docs/openapi.yaml`).
struct ScheduleResource: Encodable, Sendable {
    struct Links: Encodable, Sendable {
        var `self`: String
        var pause: String
        var resume: String
        var lastExport: String?
    }

    var id: String
    var name: String
    var cron: String?
    var everySeconds: Int64?
    var timeZone: String
    var format: String
    var columns: [String]?
    var catchUp: String
    var window: String?
    var paused: Bool
    var startsAt: Date
    var endsAt: Date?
    var maxRuns: Int?
    var nextRunAt: Date?
    var lastRunAt: Date?
    var runCount: Int
    var skippedCount: Int
    var createdAt: Date
    var updatedAt: Date
    var links: Links

    init(_ schedule: ExportSchedule, basePath: String) {
        let location = "\(basePath)/schedules/\(schedule.id.rawValue)"
        id = schedule.id.rawValue
        name = schedule.name
        cron = schedule.recurrence.cronExpression
        everySeconds = schedule.recurrence.interval.map { $0.components.seconds }
        timeZone = schedule.timeZone
        format = schedule.options.format.identifier
        columns = schedule.options.columns?.map(\.name)
        catchUp = schedule.catchUp.name
        window = schedule.window?.name
        paused = schedule.paused
        startsAt = schedule.startsAt
        endsAt = schedule.endsAt
        maxRuns = schedule.maxRuns
        nextRunAt = schedule.nextRunAt
        lastRunAt = schedule.lastRunAt
        runCount = schedule.runCount
        skippedCount = schedule.skippedCount
        createdAt = schedule.createdAt
        updatedAt = schedule.updatedAt
        links = Links(
            self: location, pause: location + "/pause", resume: location + "/resume",
            lastExport: schedule.lastJobID.map { "\(basePath)/exports/\($0.rawValue)" })
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(cron, forKey: .cron)  // explicit nulls: every field is always present
        try container.encode(everySeconds, forKey: .everySeconds)
        try container.encode(timeZone, forKey: .timeZone)
        try container.encode(format, forKey: .format)
        try container.encode(columns, forKey: .columns)
        try container.encode(catchUp, forKey: .catchUp)
        try container.encode(window, forKey: .window)
        try container.encode(paused, forKey: .paused)
        try container.encode(startsAt, forKey: .startsAt)
        try container.encode(endsAt, forKey: .endsAt)
        try container.encode(maxRuns, forKey: .maxRuns)
        try container.encode(nextRunAt, forKey: .nextRunAt)
        try container.encode(lastRunAt, forKey: .lastRunAt)
        try container.encode(runCount, forKey: .runCount)
        try container.encode(skippedCount, forKey: .skippedCount)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(links, forKey: .links)
    }

    enum CodingKeys: String, CodingKey {
        case id, name, cron, everySeconds, timeZone, format, columns, catchUp, window, paused, startsAt, endsAt, maxRuns, nextRunAt, lastRunAt,
            runCount, skippedCount, createdAt, updatedAt, links
    }
}
