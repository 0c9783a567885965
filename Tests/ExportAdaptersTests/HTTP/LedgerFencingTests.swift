import ExportAdapters
import ExportCore
import Foundation
import Testing

/// A reservation left by a sender that died is taken over at once by the next delivery of the same
/// queue message (whose lease provably ran out), never by another holder before the hold lapses; and
/// the hold never outlasts the sender's lease. Checked on the in-memory and the DynamoDB ledgers.
@Suite("Notification ledger fencing")
struct LedgerFencingTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func check(_ ledger: any NotificationLedger, key: String) async throws {
        let first = LedgerHolder(message: "m-1", delivery: 1)
        #expect(try await ledger.reserve(key, holder: first, now: now, holdFor: .seconds(300)) == .reserved)
        // The same delivery again, another message's holder, and a holder-less sender must wait.
        #expect(try await ledger.reserve(key, holder: first, now: now, holdFor: .seconds(300)) == .inProgress(until: now.addingTimeInterval(300)))
        #expect(
            try await ledger.reserve(key, holder: LedgerHolder(message: "m-2", delivery: 9), now: now, holdFor: .seconds(300))
                == .inProgress(until: now.addingTimeInterval(300)))
        #expect(try await ledger.reserve(key, now: now, holdFor: .seconds(300)) == .inProgress(until: now.addingTimeInterval(300)))
        // The message came back (delivery 2): its sender takes over at once, long before the hold ends.
        let second = LedgerHolder(message: "m-1", delivery: 2)
        #expect(try await ledger.reserve(key, holder: second, now: now.addingTimeInterval(1), holdFor: .seconds(30)) == .reserved)
        // And the superseded delivery cannot take it back.
        #expect(try await ledger.reserve(key, holder: first, now: now.addingTimeInterval(2), holdFor: .seconds(30)) == .inProgress(until: now.addingTimeInterval(31)))
        try await ledger.markSent(key, at: now.addingTimeInterval(3), providerMessageID: "ses-0001")
        #expect(try await ledger.reserve(key, holder: LedgerHolder(message: "m-1", delivery: 3), now: now.addingTimeInterval(4), holdFor: .seconds(30)) == .alreadySent)
    }

    @Test("in memory")
    func inMemory() async throws {
        try await Self.check(InMemoryNotificationLedger(), key: "job-1.ready")
    }

    @Test("DynamoDB (moto)", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
    func dynamoDB() async throws {
        let peer = try await MotoServer.peer()
        let aws = MotoServer.configuration(peer)
        let table = DynamoDBJobStore(tableName: MotoServer.uniqueName("fencing"), aws: aws)
        try await table.createTable()
        try await Self.check(DynamoDBNotificationLedger(tableName: table.tableName, aws: aws), key: "job-1.ready")
    }

    @Test("a sender that finds the key held gives its message back with the hold's end instead of waiting it out")
    func heldKeyDoesNotBlock() async throws {
        let ledger = InMemoryNotificationLedger()
        let clock = ManualClock(now: Self.now)
        #expect(try await ledger.reserve("k", holder: LedgerHolder(message: "m-9", delivery: 1), now: Self.now, holdFor: .seconds(60)) == .reserved)
        let lease = NotificationLease(messageID: "m-3", receiveCount: 1, expiresAt: Self.now.addingTimeInterval(30))
        let waiting = Task { try await ledger.deliverOnce("k", lease: lease, clock: clock, holdFor: .seconds(60), patience: .seconds(2)) { "never" } }
        for _ in 0..<100 {
            await Task.yield()
            clock.advance(by: .milliseconds(100))
        }
        let error = await #expect(throws: ExportError.self) { try await waiting.value }
        #expect(error?.isRetryable == true && error?.retryAt == Self.now.addingTimeInterval(60))
    }

    @Test("the hold lasts no longer than the sender's lease")
    func holdBoundedByLease() async throws {
        let ledger = InMemoryNotificationLedger()
        let clock = ManualClock(now: Self.now)
        let lease = NotificationLease(messageID: "m-1", receiveCount: 1, expiresAt: Self.now.addingTimeInterval(20))
        // The send "hangs" by failing after the reservation was made: look at the reservation it made.
        _ = try? await ledger.deliverOnce("k", lease: lease, clock: clock, holdFor: .seconds(300)) {
            let seen = try await ledger.reserve("k", now: Self.now, holdFor: .seconds(1))
            #expect(seen == .inProgress(until: Self.now.addingTimeInterval(20)))
            throw ExportError(.transient, "stop here")
        }
    }
}
