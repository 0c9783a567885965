/// The routes the handler serves, matched from a path below the base path.
enum APIRoute: Hashable, Sendable {
    /// `/exports`
    case exports
    /// `/exports/{id}`, with the raw, unvalidated id segment.
    case export(String)
    /// `/exports/{id}/download`
    case exportDownload(String)
    /// `{downloadPath}/{link}`: `/` and the link's one, non-empty path segment.
    case signedDownload(String)
    /// `/schedules`
    case schedules
    /// `/schedules/{id}`, with the raw id segment.
    case schedule(String)
    /// `/schedules/{id}/pause`
    case schedulePause(String)
    /// `/schedules/{id}/resume`
    case scheduleResume(String)

    /// The methods each route answers, for `Allow`: HEAD wherever GET (RFC 9110 §9.3.2).
    var allowedMethods: [String] {
        switch self {
        case .exports: ["GET", "HEAD", "POST"]
        case .export: ["DELETE", "GET", "HEAD"]
        case .exportDownload, .signedDownload: ["GET", "HEAD"]
        case .schedules: ["GET", "HEAD", "POST"]
        case .schedule: ["DELETE", "GET", "HEAD", "PATCH"]
        case .schedulePause, .scheduleResume: ["POST"]
        }
    }

    /// The route's template as the OpenAPI document spells it.
    func template(downloadPath: String) -> String {
        switch self {
        case .exports: "/exports"
        case .export: "/exports/{id}"
        case .exportDownload: "/exports/{id}/download"
        case .signedDownload: downloadPath + "/{link}"
        case .schedules: "/schedules"
        case .schedule: "/schedules/{id}"
        case .schedulePause: "/schedules/{id}/pause"
        case .scheduleResume: "/schedules/{id}/resume"
        }
    }

    /// Every (method, template) pair the handler serves, for the contract test.
    static func served(downloadPath: String, signedDownloads: Bool, schedules: Bool) -> [(method: String, template: String)] {
        var routes: [APIRoute] = [.exports, .export(""), .exportDownload("")]
        if signedDownloads { routes.append(.signedDownload("")) }
        if schedules { routes += [.schedules, .schedule(""), .schedulePause(""), .scheduleResume("")] }
        return routes.flatMap { route in route.allowedMethods.map { ($0, route.template(downloadPath: downloadPath)) } }
    }

    /// Matches a path relative to the base path (starting with `/`).
    static func match(_ path: Substring, downloadPath: String, signedDownloads: Bool) -> APIRoute? {
        if signedDownloads, !downloadPath.isEmpty, path.hasPrefix(downloadPath + "/") {
            let link = path.dropFirst(downloadPath.count + 1)
            // One segment, as an OpenAPI path parameter is; deeper paths are no route.
            return link.isEmpty || link.contains("/") ? nil : .signedDownload("/" + link)
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        if segments.first == "", segments.count >= 2, segments[1] == "schedules" {
            switch segments.count {
            case 2: return .schedules
            case 3 where !segments[2].isEmpty: return .schedule(String(segments[2]))
            case 4 where !segments[2].isEmpty && segments[3] == "pause": return .schedulePause(String(segments[2]))
            case 4 where !segments[2].isEmpty && segments[3] == "resume": return .scheduleResume(String(segments[2]))
            default: return nil
            }
        }
        guard segments.first == "", segments.count >= 2, segments[1] == "exports" else { return nil }
        switch segments.count {
        case 2: return .exports
        case 3 where !segments[2].isEmpty: return .export(String(segments[2]))
        case 4 where !segments[2].isEmpty && segments[3] == "download": return .exportDownload(String(segments[2]))
        default: return nil
        }
    }
}
