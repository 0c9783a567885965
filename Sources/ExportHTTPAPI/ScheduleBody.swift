import ExportCore
import Foundation

/// The JSON body of `POST /schedules` and `PATCH /schedules/{id}` (`#/components/schemas/ScheduleInput`):
/// strict, so a misspelt field is an error. For `PATCH`, an absent field stays as it is, and `null`
/// removes `endsAt`, `maxRuns` or `window`.
struct ScheduleBody: Sendable {
    var name: String?
    var cron: String?
    var everySeconds: Int64?
    var timeZone: String?
    var format: String?
    var columns: [String]?
    var startsAt: Date?
    var endsAt: Date??
    var maxRuns: Int??
    var catchUp: String?
    var window: String??

    static let fields: Set<String> = [
        "name", "cron", "everySeconds", "timeZone", "format", "columns", "startsAt", "endsAt", "maxRuns", "catchUp", "window",
    ]

    /// Parses a body, naming the field at fault.
    static func parse(_ body: [UInt8]) throws(CreateExportBody.Rejection) -> ScheduleBody {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) as? [String: Any] else {
                throw CreateExportBody.Rejection(field: "body", reason: "the body must be a JSON object")
            }
            object = parsed
        } catch let rejection as CreateExportBody.Rejection {
            throw rejection
        } catch {
            throw CreateExportBody.Rejection(field: "body", reason: "the body is not valid JSON")
        }
        if let unknown = object.keys.sorted().first(where: { !fields.contains($0) }) {
            throw CreateExportBody.Rejection(field: String(unknown.prefix(64)), reason: "unknown field; allowed fields are \(fields.sorted().joined(separator: ", "))")
        }
        // `null` means "remove" for the optional bounds and the window only; anywhere else it is not a value.
        func present(_ key: String) throws(CreateExportBody.Rejection) -> Any? {
            guard let value = object[key] else { return nil }
            guard !(value is NSNull) else {
                if key == "endsAt" || key == "maxRuns" || key == "window" { return nil }
                throw CreateExportBody.Rejection(field: key, reason: "must not be null; leave the field out to keep it as it is")
            }
            return value
        }
        func string(_ key: String) throws(CreateExportBody.Rejection) -> String? {
            guard let value = try present(key) else { return nil }
            guard let text = value as? String else { throw CreateExportBody.Rejection(field: key, reason: "must be a string") }
            return text
        }
        func integer(_ key: String) throws(CreateExportBody.Rejection) -> Int64? {
            guard let value = try present(key) else { return nil }
            guard let number = value as? NSNumber, String(cString: number.objCType) != "c", let whole = Int64(exactly: number.doubleValue)
            else { throw CreateExportBody.Rejection(field: key, reason: "must be a whole number") }
            return whole
        }
        func date(_ key: String) throws(CreateExportBody.Rejection) -> Date? {
            guard let text = try string(key) else { return nil }
            do { return try RFC3339.parse(text) } catch { throw CreateExportBody.Rejection(field: key, reason: "must be an RFC 3339 date-time") }
        }
        var parsed = ScheduleBody()
        parsed.name = try string("name")
        parsed.cron = try string("cron")
        parsed.everySeconds = try integer("everySeconds")
        parsed.timeZone = try string("timeZone")
        parsed.format = try string("format")
        parsed.catchUp = try string("catchUp")
        parsed.startsAt = try date("startsAt")
        if object.keys.contains("window") { parsed.window = .some(try string("window")) }
        if object.keys.contains("endsAt") { parsed.endsAt = .some(try date("endsAt")) }
        if object.keys.contains("maxRuns") {
            let runs = try integer("maxRuns")
            guard runs.map({ Int(exactly: $0) != nil }) ?? true else { throw CreateExportBody.Rejection(field: "maxRuns", reason: "is too large") }
            parsed.maxRuns = .some(runs.map { Int($0) })
        }
        if let value = try present("columns") {
            guard let names = value as? [String] else { throw CreateExportBody.Rejection(field: "columns", reason: "must be an array of strings") }
            parsed.columns = names
        }
        if parsed.cron != nil, parsed.everySeconds != nil {
            throw CreateExportBody.Rejection(field: "cron", reason: "give cron or everySeconds, not both")
        }
        return parsed
    }

    /// The recurrence the body names, if any.
    func recurrence() throws(CreateExportBody.Rejection) -> ExportRecurrence? {
        do {
            if let cron { return try .cron(cron) }
            if let everySeconds { return try .every(.seconds(everySeconds)) }
        } catch {
            throw CreateExportBody.Rejection(field: cron != nil ? "cron" : "everySeconds", reason: error.message)
        }
        return nil
    }

    /// The catch-up policy the body names, if any.
    func catchUpPolicy() throws(CreateExportBody.Rejection) -> CatchUpPolicy? {
        guard let catchUp else { return nil }
        guard let policy = CatchUpPolicy(named: catchUp) else {
            throw CreateExportBody.Rejection(field: "catchUp", reason: "must be runLatest or skip")
        }
        return policy
    }

    /// The window the body names: `nil` when absent, `.some(nil)` for `null`.
    func scheduleWindow() throws(CreateExportBody.Rejection) -> ScheduleWindow?? {
        guard let window else { return nil }
        guard let name = window else { return .some(nil) }
        guard let named = ScheduleWindow(named: name) else {
            throw CreateExportBody.Rejection(field: "window", reason: "must be previousPeriod, sinceLastRun or null")
        }
        return .some(named)
    }
}
