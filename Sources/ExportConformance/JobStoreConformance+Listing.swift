import ExportCore
import Foundation

extension JobStoreConformance {
    func listing() async throws {
        let store = try await makeStore()
        let token = runToken()
        let owner = UserID("lister-\(token)")
        let neighbour = UserID("neighbour-\(token)")
        let count = configuration.listedJobs
        var mine: [ExportJob] = []
        for index in 0..<count {
            // Two jobs share each creation time, so ties must be broken consistently.
            let createdAt = Self.epoch.addingTimeInterval(Double(index / 2) * 60)
            let job = try Self.listedJob(token: token, index: index, owner: owner, createdAt: createdAt)
            mine.append(try await store.create(job).job)
        }
        for index in 0..<3 {
            let job = try Self.listedJob(token: token, index: 1000 + index, owner: neighbour, createdAt: Self.epoch)
            _ = try await store.create(job)
        }

        for limit in [1, 2, 5, count, count + 5] {
            var seen: [ExportJob] = []
            var cursor: PageCursor?
            var pages = 0
            repeat {
                let page = try await store.list(owner: owner, after: cursor, limit: limit)
                pages += 1
                try check(page.items.count <= limit, "a page held \(page.items.count) jobs with limit \(limit)")
                try check(!page.items.isEmpty || page.next == nil, "an empty page had a next cursor")
                seen += page.items
                cursor = page.next
                try check(pages <= count + 2, "listing with limit \(limit) does not end")
            } while cursor != nil
            try check(seen.allSatisfy { $0.owner == owner }, "a listing returned another owner's job")
            try check(Set(seen.map(\.id)).count == seen.count, "a listing with limit \(limit) repeated a job")
            try check(Set(seen.map(\.id)) == Set(mine.map(\.id)), "a listing with limit \(limit) missed jobs: got \(seen.count) of \(count)")
            try check(
                zip(seen, seen.dropFirst()).allSatisfy { $0.createdAt >= $1.createdAt },
                "a listing with limit \(limit) is not newest first"
            )
        }
        let empty = try await store.list(owner: UserID("nobody-\(token)"), after: nil, limit: 10)
        try check(empty.items.isEmpty && empty.next == nil, "an owner without jobs got a non-empty listing")
    }

    func stale() async throws {
        let store = try await makeStore()
        let token = runToken()
        let owner = UserID("stale-\(token)")
        let cutoff = Self.epoch.addingTimeInterval(3600)
        var expected: Set<JobID> = []
        var index = 0
        for (state, old) in [(JobState.queued, true), (.queued, false), (.running, true), (.cancelled, true), (.queued, true)] {
            index += 1
            var job = try await store.create(
                try Self.listedJob(token: token, index: index, owner: owner, createdAt: Self.epoch)
            ).job
            switch state {
            case .running: _ = job.lifecycle.claim(now: Self.epoch, lease: .seconds(60), maxInterruptions: 3)
            case .cancelled: _ = try job.lifecycle.requestCancel()
            default: break
            }
            job.updatedAt = old ? cutoff.addingTimeInterval(-60) : cutoff.addingTimeInterval(60)
            _ = try await store.update(job)
            if old && (state == .queued || state == .running) { expected.insert(job.id) }
        }
        let found = try await store.stale(in: [.queued, .running], updatedBefore: cutoff, limit: 1000)
        let ours = Set(found.map(\.id)).filter { $0.rawValue.contains(token) }
        try check(ours == expected, "stale returned \(ours.sorted()) instead of \(expected.sorted())")
        try check(
            found.allSatisfy { [.queued, .running].contains($0.state) && $0.updatedAt < cutoff },
            "stale returned a job in another state or updated after the cut-off"
        )
        let limited = try await store.stale(in: [.queued, .running], updatedBefore: cutoff, limit: 1)
        try check(limited.count == 1, "stale with limit 1 returned \(limited.count) jobs")
    }

    func expiry() async throws {
        let store = try await makeStore()
        let token = runToken()
        let owner = UserID("expiry-\(token)")
        let now = Self.epoch.addingTimeInterval(86_400)
        var expired: Set<JobID> = []
        var kept: [JobID] = []
        for (index, expiresAt) in [now.addingTimeInterval(-10), now, now.addingTimeInterval(10), nil, now.addingTimeInterval(-5)]
            .enumerated()
        {
            var job = try await store.create(
                try Self.listedJob(token: token, index: index, owner: owner, createdAt: Self.epoch)
            ).job
            job.expiresAt = expiresAt
            _ = try await store.update(job)
            if let expiresAt, expiresAt <= now { expired.insert(job.id) } else { kept.append(job.id) }
        }
        let first = try await store.expired(now: now, limit: 1)
        try check(first.count == 1, "expired with limit 1 returned \(first.count) jobs")
        let listed = try await store.expired(now: now, limit: 1000)
        let ours = listed.filter { $0.id.rawValue.contains(token) }
        try check(Set(ours.map(\.id)) == expired, "expired listed \(ours.map(\.id).sorted()) instead of \(expired.sorted())")
        // Listing changes nothing: the records must still name their files for the reconciler.
        for id in expired {
            let read = try await store.get(id)
            try check(read != nil, "expired job \(id) was deleted by the listing")
        }
        // Deleting is a compare-and-swap on the version; deleting again succeeds.
        for job in ours {
            var stale = job
            stale.version += 1
            do {
                try await store.delete(stale)
                try check(false, "delete with a version that is not the stored one deleted job \(job.id)")
            } catch let error as ExportError where error.code == .versionConflict {}
            try check(try await store.get(job.id) != nil, "a refused delete removed job \(job.id)")
            try await store.delete(job)
            try check(try await store.get(job.id) == nil, "deleted job \(job.id) is still readable")
            try await store.delete(job)
        }
        for id in kept {
            let read = try await store.get(id)
            try check(read != nil, "job \(id), not expired, was deleted")
        }
        let after = try await store.expired(now: now, limit: 1000).filter { $0.id.rawValue.contains(token) }
        try check(after.isEmpty, "deleted jobs are still listed as expired: \(after.map(\.id))")
    }

    func unnotified() async throws {
        let store = try await makeStore()
        let token = runToken()
        let owner = UserID("notify-\(token)")
        let cutoff = Self.epoch.addingTimeInterval(3600)
        var random = SystemRandomNumberGenerator()
        var expected: Set<JobID> = []
        // (end state, notified, updated before the cut-off)
        let cases: [(JobState, Bool, Bool)] = [
            (.succeeded, false, true), (.succeeded, true, true), (.failed, false, true), (.failed, true, true),
            (.succeeded, false, false), (.cancelled, false, true), (.queued, false, true), (.running, false, true),
        ]
        for (index, (state, notified, old)) in cases.enumerated() {
            var job = try await store.create(
                try Self.listedJob(token: token, index: index, owner: owner, createdAt: Self.epoch)
            ).job
            switch state {
            case .succeeded, .failed, .running:
                _ = job.lifecycle.claim(now: Self.epoch, lease: .seconds(60), maxInterruptions: 3)
                if state == .succeeded { try job.lifecycle.succeed() }
                if state == .failed {
                    _ = try job.lifecycle.fail(retryable: false, reason: "test", policy: RetryPolicy(), now: Self.epoch, using: &random)
                }
                if notified { try job.lifecycle.markNotified() }
            case .cancelled: _ = try job.lifecycle.requestCancel()
            default: break
            }
            job.updatedAt = old ? cutoff.addingTimeInterval(-60) : cutoff.addingTimeInterval(60)
            _ = try await store.update(job)
            if old && !notified && (state == .succeeded || state == .failed) { expected.insert(job.id) }
        }
        let found = try await store.unnotified(updatedBefore: cutoff, limit: 1000)
        let ours = Set(found.map(\.id)).filter { $0.rawValue.contains(token) }
        try check(ours == expected, "unnotified returned \(ours.sorted()) instead of \(expected.sorted())")
        try check(found.allSatisfy { $0.notificationPending && $0.updatedAt < cutoff }, "unnotified returned a job that is not pending")
        let limited = try await store.unnotified(updatedBefore: cutoff, limit: 1)
        try check(limited.count == 1, "unnotified with limit 1 returned \(limited.count) jobs")
    }

    static func listedJob(token: String, index: Int, owner: UserID, createdAt: Date) throws -> ExportJob {
        let id = try require(JobID("conformance-\(token)-l\(index)"), "could not make a job id")
        let recipient = try require(EmailAddress("conformance@example.com"), "could not make an address")
        return ExportJob(id: id, owner: owner, recipient: recipient, options: ExportOptions(), createdAt: createdAt)
    }
}
