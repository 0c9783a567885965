/// The routes of ``ExportAdminHandler``, relative to its base path.
enum AdminRoute: Hashable, Sendable {
    case jobs
    case job(String)
    case jobRetry(String)
    case deadLetters
    case deadLetter(String)
    case deadLetterRedrive(String)
    case workers
    case workersPause
    case workersResume

    var allowedMethods: [String] {
        switch self {
        case .jobs, .job, .deadLetters, .deadLetter, .workers: ["GET"]
        case .jobRetry, .deadLetterRedrive, .workersPause, .workersResume: ["POST"]
        }
    }

    var template: String {
        switch self {
        case .jobs: "/jobs"
        case .job: "/jobs/{id}"
        case .jobRetry: "/jobs/{id}/retry"
        case .deadLetters: "/dead-letters"
        case .deadLetter: "/dead-letters/{id}"
        case .deadLetterRedrive: "/dead-letters/{id}/redrive"
        case .workers: "/workers"
        case .workersPause: "/workers/pause"
        case .workersResume: "/workers/resume"
        }
    }

    static let all: [AdminRoute] = [
        .jobs, .job(""), .jobRetry(""), .deadLetters, .deadLetter(""), .deadLetterRedrive(""), .workers, .workersPause, .workersResume,
    ]

    static func match(_ path: Substring) -> AdminRoute? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.first == "", segments.count >= 2 else { return nil }
        let id = segments.count >= 3 && !segments[2].isEmpty ? segments[2] : nil
        switch (segments[1], segments.count) {
        case ("jobs", 2): return .jobs
        case ("jobs", 3): return id.map { .job($0) }
        case ("jobs", 4) where segments[3] == "retry": return id.map { .jobRetry($0) }
        case ("dead-letters", 2): return .deadLetters
        case ("dead-letters", 3): return id.map { .deadLetter($0) }
        case ("dead-letters", 4) where segments[3] == "redrive": return id.map { .deadLetterRedrive($0) }
        case ("workers", 2): return .workers
        case ("workers", 3) where segments[2] == "pause": return .workersPause
        case ("workers", 3) where segments[2] == "resume": return .workersResume
        default: return nil
        }
    }
}
