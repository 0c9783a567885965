import ExportAdapters
import ExportCore
import Foundation
import Testing

/// Yields until `condition` holds (other tasks make progress meanwhile); records an issue if it never does.
/// Used to wait until a task is parked on a ``ManualClock`` before advancing it; no time passes.
func eventually(
    _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async -> Bool
) async {
    for _ in 0..<200_000 {
        if await condition() { return }
        await Task.yield()
    }
    Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
}

enum Fixtures {
    static func job(_ name: String, owner: UserID = "alice", createdAt: Date = Date(timeIntervalSince1970: 1_767_225_600)) -> ExportJob {
        ExportJob(
            id: JobID(name)!, owner: owner, recipient: EmailAddress("alice@example.com")!,
            options: ExportOptions(), createdAt: createdAt
        )
    }

    static func message(_ name: String) -> QueueMessage { QueueMessage(jobID: JobID(name)!) }

    static func membership(_ id: String, owner: UserID = "alice") -> Membership {
        Membership(
            membershipID: id, userID: owner, organizationID: "org", organizationName: "Org",
            plan: "pro", role: "member", status: "active", startedAt: Date(timeIntervalSince1970: 1_700_000_000)
        )
    }
}
