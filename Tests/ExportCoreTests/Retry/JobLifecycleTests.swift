import ExportCore
import Foundation
import Testing

/// Every state of the job lifecycle, every event, and what the machine answers.
@Suite("JobLifecycle")
struct JobLifecycleTests {
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)
    static let lease = Duration.seconds(60)
    static let policy = RetryPolicy(maxAttempts: 3, baseDelay: .seconds(10), maxDelay: .seconds(100), jitter: .none)

    enum Start: String, CaseIterable, CustomTestStringConvertible {
        case queued, running, runningCancelRequested, retryScheduled, succeeded, failed, cancelled
        var testDescription: String { rawValue }
    }

    static func make(_ start: Start) throws -> JobLifecycle {
        var machine = JobLifecycle()
        var generator = SplitMix64(seed: 1)
        switch start {
        case .queued: break
        case .running: _ = machine.claim(now: t0, lease: lease, maxInterruptions: 3)
        case .runningCancelRequested:
            _ = machine.claim(now: t0, lease: lease, maxInterruptions: 3)
            _ = try machine.requestCancel()
        case .retryScheduled:
            _ = machine.claim(now: t0, lease: lease, maxInterruptions: 3)
            _ = try machine.fail(retryable: true, reason: "x", policy: policy, now: t0, using: &generator)
        case .succeeded:
            _ = machine.claim(now: t0, lease: lease, maxInterruptions: 3)
            try machine.succeed()
        case .failed:
            _ = machine.claim(now: t0, lease: lease, maxInterruptions: 3)
            _ = try machine.fail(retryable: false, reason: "x", policy: policy, now: t0, using: &generator)
        case .cancelled: _ = try machine.requestCancel()
        }
        return machine
    }

    private func expectIllegal(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected an illegal transition", sourceLocation: sourceLocation)
        } catch {
            #expect((error as? ExportError)?.code == .illegalTransition, sourceLocation: sourceLocation)
        }
    }

    // MARK: claim

    @Test("claim in every state")
    func claimTable() throws {
        let later = Self.t0.addingTimeInterval(30)
        let expired = Self.t0.addingTimeInterval(61)
        let dueLater = Self.t0.addingTimeInterval(5)
        let due = Self.t0.addingTimeInterval(11)
        let cases: [(Start, Date, JobLifecycle.ClaimAction, JobState)] = [
            (.queued, Self.t0, .run(attempt: 1), .running),
            (.running, later, .redeliverLater(after: .seconds(30)), .running),
            (.running, expired, .run(attempt: 2), .running),
            (.runningCancelRequested, later, .redeliverLater(after: .seconds(30)), .running),
            (.runningCancelRequested, expired, .finish(notify: nil, disposal: .acknowledge), .cancelled),
            (.retryScheduled, dueLater, .redeliverLater(after: .seconds(5)), .retryScheduled),
            (.retryScheduled, due, .run(attempt: 2), .running),
            (.succeeded, later, .finish(notify: .ready, disposal: .acknowledge), .succeeded),
            (.failed, later, .finish(notify: .failed, disposal: .deadLetter(reason: "export failed")), .failed),
            (.cancelled, later, .finish(notify: nil, disposal: .acknowledge), .cancelled),
        ]
        for (start, now, action, state) in cases {
            var machine = try Self.make(start)
            #expect(machine.claim(now: now, lease: Self.lease, maxInterruptions: 3) == action, "claim while \(start)")
            #expect(machine.state == state, "state after claim while \(start)")
        }
    }

    @Test("a takeover counts an interruption, not a failure; the interruption bound fails the job")
    func takeovers() {
        var machine = JobLifecycle()
        #expect(machine.claim(now: Self.t0, lease: Self.lease, maxInterruptions: 2) == .run(attempt: 1))
        #expect(machine.leaseExpiresAt == Self.t0.addingTimeInterval(60))
        #expect(machine.claim(now: Self.t0.addingTimeInterval(61), lease: Self.lease, maxInterruptions: 2) == .run(attempt: 2))
        #expect(machine.claim(now: Self.t0.addingTimeInterval(122), lease: Self.lease, maxInterruptions: 2) == .run(attempt: 3))
        #expect(machine.interruptions == 2 && machine.failures == 0, "takeovers must not spend the attempt budget")
        let action = machine.claim(now: Self.t0.addingTimeInterval(200), lease: Self.lease, maxInterruptions: 2)
        #expect(action == .finish(notify: .failed, disposal: .deadLetter(reason: "interrupted 3 times (the limit is 2)")))
        #expect(machine.state == .failed)
        #expect(machine.leaseExpiresAt == nil)
    }

    @Test("a second message for a job another delivery runs under a live lease is discarded; the holder's own comes back")
    func duplicateOfRunningJob() {
        var machine = JobLifecycle()
        #expect(machine.claim(now: Self.t0, lease: Self.lease, maxInterruptions: 3, message: "m-1") == .run(attempt: 1))
        #expect(machine.holderMessage == "m-1")
        #expect(machine.claim(now: Self.t0.addingTimeInterval(1), lease: Self.lease, maxInterruptions: 3, message: "m-2") == .discardDuplicate)
        #expect(machine.claim(now: Self.t0.addingTimeInterval(1), lease: Self.lease, maxInterruptions: 3, message: "m-1") == .redeliverLater(after: .seconds(59)))
        #expect(machine.claim(now: Self.t0.addingTimeInterval(1), lease: Self.lease, maxInterruptions: 3) == .redeliverLater(after: .seconds(59)))
        // Once the lease ran out, whichever message comes takes the job over and becomes the holder.
        #expect(machine.claim(now: Self.t0.addingTimeInterval(61), lease: Self.lease, maxInterruptions: 3, message: "m-2") == .run(attempt: 2))
        #expect(machine.holderMessage == "m-2")
    }

    @Test("interruptions leave the whole attempt budget to export errors")
    func interruptionsDoNotSpendAttempts() throws {
        var machine = JobLifecycle()
        var random = SystemRandomNumberGenerator()
        var now = Self.t0
        for _ in 0..<10 {  // ten crashes, far more than maxAttempts (3)
            _ = machine.claim(now: now, lease: Self.lease, maxInterruptions: 20)
            now = now.addingTimeInterval(61)
        }
        #expect(machine.state == .running && machine.interruptions == 9)
        for failure in 1...2 {
            let action = try machine.fail(retryable: true, reason: "boom", policy: Self.policy, now: now, using: &random)
            guard case .retry = action else { Issue.record("failure \(failure) of 3 gave up: \(action)"); return }
            now = now.addingTimeInterval(1000)
            #expect(machine.claim(now: now, lease: Self.lease, maxInterruptions: 20) == .run(attempt: 10 + failure))
        }
        let last = try machine.fail(retryable: true, reason: "boom", policy: Self.policy, now: now, using: &random)
        #expect(last == .giveUp(reason: "boom (attempts exhausted after attempt 3 of 3)"))
    }

    @Test("environmental faults are retried for the environmental budget with capped backoff, then count")
    func environmentalBudget() throws {
        let policy = RetryPolicy(
            maxAttempts: 2, baseDelay: .seconds(1), maxDelay: .seconds(10), jitter: .none, environmentalBudget: .seconds(3600),
            environmentalMaxDelay: .seconds(300))
        var machine = JobLifecycle()
        var random = SystemRandomNumberGenerator()
        var now = Self.t0
        var deferrals = 0
        while true {
            _ = machine.claim(now: now, lease: Self.lease, maxInterruptions: 20)
            let action = try machine.fail(retryable: true, environmental: true, reason: "disk full", policy: policy, now: now, using: &random)
            guard case .retry(let delay) = action else { Issue.record("gave up: \(action)"); return }
            #expect(delay >= .seconds(1) && delay <= .seconds(300), "delay \(delay) outside [base, cap]")
            if machine.failures > 0 { break }
            deferrals += 1
            now = machine.nextAttemptAt ?? now
        }
        // Within the hour no attempt was spent; the first fault past it spent one.
        #expect(deferrals > 2 && machine.deferrals == deferrals)
        #expect(now.timeIntervalSince(Self.t0) >= 3600)
        #expect(machine.failures == 1)
        // An ordinary error ends the run of environmental faults and counts.
        now = machine.nextAttemptAt ?? now
        _ = machine.claim(now: now, lease: Self.lease, maxInterruptions: 20)
        let last = try machine.fail(retryable: true, reason: "bad row", policy: policy, now: now, using: &random)
        #expect(last == .giveUp(reason: "bad row (attempts exhausted after attempt 2 of 2)"))
        #expect(machine.environmentalSince == nil)
    }

    @Test("a failed job can be retried with a fresh budget, and is told again")
    func retryFailed() throws {
        var machine = try Self.make(.failed)
        try machine.markNotified()
        try machine.retryFailed()
        #expect(machine.state == .queued && machine.failures == 0 && machine.interruptions == 0 && !machine.notified && machine.retries == 1)
        #expect(throws: ExportError.self) { try machine.retryFailed() }
    }

    @Test("a failed job's duplicate message is acknowledged once notified; dead-lettered while the e-mail is pending")
    func notifiedTerminalClaims() throws {
        var succeeded = try Self.make(.succeeded)
        try succeeded.markNotified()
        #expect(succeeded.claim(now: Self.t0, lease: Self.lease, maxInterruptions: 3) == .finish(notify: nil, disposal: .acknowledge))
        var failed = try Self.make(.failed)
        #expect(failed.claim(now: Self.t0, lease: Self.lease, maxInterruptions: 3) == .finish(notify: .failed, disposal: .deadLetter(reason: "export failed")))
        try failed.markNotified()
        #expect(failed.claim(now: Self.t0, lease: Self.lease, maxInterruptions: 3) == .finish(notify: nil, disposal: .acknowledge))
    }

    @Test("records written before the budget counters existed decode, counting every attempt as spent")
    func legacyDecoding() throws {
        let json = #"{"attempt":2,"cancelRequested":false,"notified":false,"state":"running"}"#
        let machine = try JSONDecoder().decode(JobLifecycle.self, from: Data(json.utf8))
        #expect(machine.attempt == 2 && machine.failures == 2 && machine.interruptions == 0 && machine.retries == 0)
        let again = try JSONDecoder().decode(JobLifecycle.self, from: try JSONEncoder().encode(machine))
        #expect(again == machine)
    }

    // MARK: running events

    @Test("extendLease: only while running")
    func extendLease() throws {
        var running = try Self.make(.running)
        try running.extendLease(until: Self.t0.addingTimeInterval(500))
        #expect(running.leaseExpiresAt == Self.t0.addingTimeInterval(500))
        for start in Start.allCases where start != .running && start != .runningCancelRequested {
            var machine = try Self.make(start)
            expectIllegal { try machine.extendLease(until: Self.t0) }
        }
    }

    @Test("succeed: running → succeeded; refused after a cancel request and in every other state")
    func succeed() throws {
        var running = try Self.make(.running)
        try running.succeed()
        #expect(running.state == .succeeded)
        #expect(running.leaseExpiresAt == nil)
        var cancelling = try Self.make(.runningCancelRequested)
        #expect(throws: ExportError.self) { try cancelling.succeed() }
        #expect(cancelling.state == .running)
        for start in Start.allCases where start != .running && start != .runningCancelRequested {
            var machine = try Self.make(start)
            expectIllegal { try machine.succeed() }
        }
    }

    @Test("fail: retryable with attempts left → retryScheduled with the backoff delay")
    func failRetry() throws {
        var machine = try Self.make(.running)
        var generator = SplitMix64(seed: 1)
        let action = try machine.fail(retryable: true, reason: "db timeout", policy: Self.policy, now: Self.t0, using: &generator)
        #expect(action == .retry(after: .seconds(10)))
        #expect(machine.state == .retryScheduled)
        #expect(machine.nextAttemptAt == Self.t0.addingTimeInterval(10))
        #expect(machine.lastRetryDelay == .seconds(10))
    }

    @Test("fail: permanent → failed at once; retryable on the last attempt → failed")
    func failGiveUp() throws {
        var generator = SplitMix64(seed: 1)
        var permanent = try Self.make(.running)
        let first = try permanent.fail(retryable: false, reason: "bad column", policy: Self.policy, now: Self.t0, using: &generator)
        #expect(first == .giveUp(reason: "bad column (permanent error after attempt 1 of 3)"))
        #expect(permanent.state == .failed)

        var machine = JobLifecycle()
        for attempt in 1...3 {
            let now = Self.t0.addingTimeInterval(Double(attempt) * 1000)
            #expect(machine.claim(now: now, lease: Self.lease, maxInterruptions: 3) == .run(attempt: attempt))
            let action = try machine.fail(retryable: true, reason: "down", policy: Self.policy, now: now, using: &generator)
            if attempt < 3 {
                #expect(action == .retry(after: .seconds(10 << (attempt - 1))))
            } else {
                #expect(action == .giveUp(reason: "down (attempts exhausted after attempt 3 of 3)"))
            }
        }
        #expect(machine.state == .failed)
    }

    @Test("fail: illegal unless running")
    func failIllegal() throws {
        for start in Start.allCases where start != .running && start != .runningCancelRequested {
            var machine = try Self.make(start)
            var generator = SplitMix64(seed: 1)
            expectIllegal { _ = try machine.fail(retryable: true, reason: "x", policy: Self.policy, now: Self.t0, using: &generator) }
        }
    }

    @Test("relinquish: running → queued without counting the attempt")
    func relinquish() throws {
        var machine = try Self.make(.running)
        try machine.relinquish()
        #expect(machine.state == .queued)
        #expect(machine.attempt == 0)
        #expect(machine.claim(now: Self.t0, lease: Self.lease, maxInterruptions: 3) == .run(attempt: 1))
        for start in Start.allCases where start != .running && start != .runningCancelRequested {
            var other = try Self.make(start)
            expectIllegal { try other.relinquish() }
        }
    }

    @Test("relinquish after a cancel request cancels the job instead of queueing it again")
    func relinquishRemembersCancel() throws {
        var machine = try Self.make(.runningCancelRequested)
        #expect(try machine.relinquish() == .cancelled)
        #expect(machine.state == .cancelled)
        #expect(machine.leaseExpiresAt == nil)
        #expect(machine.claim(now: Self.t0, lease: Self.lease, maxInterruptions: 3) == .finish(notify: nil, disposal: .acknowledge))
    }

    @Test("a retryable failure after a cancel request cancels the job instead of scheduling a retry")
    func failRemembersCancel() throws {
        var machine = try Self.make(.runningCancelRequested)
        var generator = SplitMix64(seed: 1)
        let action = try machine.fail(retryable: true, reason: "x", policy: Self.policy, now: Self.t0, using: &generator)
        #expect(action == .cancelled)
        #expect(machine.state == .cancelled)
        #expect(machine.nextAttemptAt == nil)
        #expect(machine.claim(now: Self.t0.addingTimeInterval(3600), lease: Self.lease, maxInterruptions: 3) == .finish(notify: nil, disposal: .acknowledge))
    }

    @Test("a queued or retry-scheduled job that carries a cancel request is cancelled by the claim, not run")
    func claimHonoursStoredCancel() throws {
        // Records written before relinquish and fail remembered the request: queued or
        // retry_scheduled with cancelRequested set. Build them through a JSON round trip.
        for (state, extra) in [("queued", ""), ("retry_scheduled", #", "nextAttemptAt": 0"#)] {
            let json = #"{"state": "\#(state)", "attempt": 1, "cancelRequested": true, "notified": false\#(extra)}"#
            var machine = try JSONDecoder().decode(JobLifecycle.self, from: Data(json.utf8))
            #expect(machine.cancelRequested)
            #expect(machine.claim(now: Self.t0, lease: Self.lease, maxInterruptions: 3) == .finish(notify: nil, disposal: .acknowledge))
            #expect(machine.state == .cancelled)
            #expect(machine.attempt == 1)
        }
    }

    @Test("a huge lease does not trap when a duplicate delivery computes the redelivery delay")
    func hugeLease() {
        var machine = JobLifecycle()
        #expect(machine.claim(now: Self.t0, lease: .seconds(Int64.max), maxInterruptions: 3) == .run(attempt: 1))
        #expect(machine.claim(now: Self.t0, lease: .seconds(Int64.max), maxInterruptions: 3) == .redeliverLater(after: .milliseconds(Int64.max)))
    }

    @Test("abandon ends a job that has not ended: failed, or cancelled after a cancel request")
    func abandon() throws {
        for (start, expected) in [(Start.queued, JobState.failed), (.running, .failed), (.retryScheduled, .failed), (.runningCancelRequested, .cancelled)] {
            var machine = try Self.make(start)
            #expect(try machine.abandon() == expected)
            #expect(machine.leaseExpiresAt == nil && machine.nextAttemptAt == nil)
        }
        for start in [Start.succeeded, .failed, .cancelled] {
            var machine = try Self.make(start)
            expectIllegal { try machine.abandon() }
        }
    }

    // MARK: cancellation

    @Test("requestCancel in every state")
    func cancelTable() throws {
        let cases: [(Start, JobLifecycle.CancelAction?, JobState)] = [
            (.queued, .cancelled, .cancelled),
            (.retryScheduled, .cancelled, .cancelled),
            (.running, .stopping, .running),
            (.runningCancelRequested, .stopping, .running),
            (.cancelled, .alreadyCancelled, .cancelled),
            (.succeeded, nil, .succeeded),
            (.failed, nil, .failed),
        ]
        for (start, expected, state) in cases {
            var machine = try Self.make(start)
            if let expected {
                #expect(try machine.requestCancel() == expected, "cancel while \(start)")
            } else {
                expectIllegal { _ = try machine.requestCancel() }
            }
            #expect(machine.state == state)
        }
    }

    @Test("confirmCancelled: only running with a cancel request")
    func confirmCancelled() throws {
        var machine = try Self.make(.runningCancelRequested)
        try machine.confirmCancelled()
        #expect(machine.state == .cancelled)
        for start in Start.allCases where start != .runningCancelRequested {
            var other = try Self.make(start)
            expectIllegal { try other.confirmCancelled() }
        }
    }

    @Test("markNotified: only succeeded or failed")
    func markNotified() throws {
        for start in Start.allCases {
            var machine = try Self.make(start)
            if start == .succeeded || start == .failed {
                try machine.markNotified()
                #expect(machine.notified)
            } else {
                expectIllegal { try machine.markNotified() }
            }
        }
    }

    @Test("the lifecycle survives a JSON round trip, so durable stores keep every field")
    func codable() throws {
        var generator = SplitMix64(seed: 9)
        var machine = try Self.make(.running)
        _ = try machine.fail(retryable: true, reason: "x", policy: Self.policy, now: Self.t0, using: &generator)
        let decoded = try JSONDecoder().decode(JobLifecycle.self, from: JSONEncoder().encode(machine))
        #expect(decoded == machine)
    }
}
