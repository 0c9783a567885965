import ExportCore
import Foundation
import Synchronization

/// Wraps a source and fails the first page of an attempt with a retryable error at a given rate, to
/// show retries and (when every attempt fails) dead letters; optionally slows every page down.
final class FlakyMembershipSource: MembershipSource {
    let base: any MembershipSource
    let failureRate: Double
    let pageDelay: Duration
    private let random: Mutex<SplitMix64>

    init(base: any MembershipSource, failureRate: Double, pageDelay: Duration = .zero, seed: UInt64) {
        self.base = base
        self.pageDelay = pageDelay
        self.failureRate = failureRate
        random = Mutex(SplitMix64(seed: seed))
    }

    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        if cursor == nil, failureRate > 0 {
            let roll = random.withLock { Double($0.next() % 1_000_000) / 1_000_000 }
            if roll < failureRate {
                throw ExportError(.unavailable, "injected failure: the membership database timed out (--fail-rate)")
            }
        }
        if pageDelay > .zero { try await Task.sleep(for: pageDelay) }
        return try await base.memberships(of: owner, after: cursor, limit: limit)
    }
}
