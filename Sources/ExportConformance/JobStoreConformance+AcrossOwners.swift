import ExportCore
import Foundation

extension JobStoreConformance {
    /// `JobStore.jobs(matching:after:limit:)`: oldest first, filtered by state and age, across owners,
    /// paged without repeats or gaps; a foreign cursor is `invalidRequest`. A store configured as not
    /// listing across owners must say so with `unsupported`, never with an empty page.
    func listingAcrossOwners() async throws {
        let store = try await makeStore()
        guard configuration.listsAcrossOwners else {
            do {
                let page = try await store.jobs(matching: JobFilter(), after: nil, limit: 10)
                throw ConformanceFailure("a store that does not list across owners answered \(page.items.count) jobs", location: "jobs(matching:)")
            } catch let error as ExportError where error.code == .unsupported {
                return
            }
        }
        let token = runToken()
        // An era of its own (a random minute in the 1980s), so data of other runs in a shared store
        // rarely falls inside the window; when it does, it must still obey the filter and the order.
        let base = Date(timeIntervalSince1970: 315_532_800 + Double(Int.random(in: 0..<5_000_000)) * 60)
        let count = 9
        var mine: [ExportJob] = []
        for index in 0..<count {
            let owner = UserID("across-\(token)-\(index % 3)")  // three owners
            let createdAt = base.addingTimeInterval(Double(index / 2) * 60)  // pairs share a creation time
            var job = try Self.listedJob(token: token, index: index, owner: owner, createdAt: createdAt).stamped(createdAt)
            job = try await store.create(job).job
            if index % 3 == 1 {
                _ = try job.lifecycle.requestCancel()
                job = try await store.update(job)
            }
            mine.append(job)
        }
        let cutOff = base.addingTimeInterval(3 * 60)  // indexes 0…5 are older
        let filter = JobFilter(states: [.queued], createdBefore: cutOff)
        let expected = Set(mine.filter { filter.matches($0) }.map(\.id))
        try check(expected.count == 4, "the fixture should have 4 matching jobs, has \(expected.count)")

        for limit in [1, 3, 100] {
            var seen: [ExportJob] = []
            var cursor: PageCursor?
            var pages = 0
            repeat {
                let page = try await store.jobs(matching: filter, after: cursor, limit: limit)
                pages += 1
                try check(page.items.count <= limit, "a page held \(page.items.count) jobs with limit \(limit)")
                try check(!page.items.isEmpty || page.next == nil, "an empty page had a next cursor")
                seen += page.items
                cursor = page.next
                try check(pages <= 10_000, "listing across owners with limit \(limit) does not end")
            } while cursor != nil
            try check(seen.allSatisfy(filter.matches), "listing across owners returned a job the filter excludes")
            try check(Set(seen.map(\.id)).count == seen.count, "listing across owners with limit \(limit) repeated a job")
            try check(
                zip(seen, seen.dropFirst()).allSatisfy { JobPosition($0) < JobPosition($1) },
                "listing across owners with limit \(limit) is not oldest first (creation time, then id)")
            let found = Set(seen.map(\.id)).intersection(Set(mine.map(\.id)))
            try check(found == expected, "listing across owners with limit \(limit) found \(found.count) of the \(expected.count) matching jobs")
        }
        let everything = try await store.jobs(matching: JobFilter(createdBefore: base.addingTimeInterval(3600)), after: nil, limit: 100)
        try check(
            Set(mine.map(\.owner)).isSubset(of: Set(everything.items.map(\.owner))) || everything.next != nil,
            "an unfiltered listing across owners did not return every owner's jobs")
        do {
            _ = try await store.jobs(matching: filter, after: PageCursor("not-a-cursor-\(token)"), limit: 5)
            throw ConformanceFailure("a cursor the store did not make was accepted", location: "jobs(matching:)")
        } catch let error as ExportError where error.code == .invalidRequest {}
    }
}

extension ExportJob {
    fileprivate func stamped(_ date: Date) -> ExportJob {
        var job = self
        job.updatedAt = date
        return job
    }
}
