import ExportAdapters
import ExportCore
import Testing

@Suite("FaultInjector")
struct FaultInjectorTests {
    @Test func failNextFailsTheGivenNumberOfCallsThenHeals() throws {
        let faults = FaultInjector()
        faults.failNext(.send, count: 2, with: ExportError(.unavailable, "down"))
        #expect(throws: ExportError.self) { try faults.check(.send) }
        #expect(throws: ExportError.self) { try faults.check(.send) }
        try faults.check(.send)
        try faults.check(.enqueue)
        #expect(faults.callCount(.send) == 3)
        #expect(faults.callCount(.enqueue) == 1)
    }

    @Test func scriptsForOneOperationQueueUp() {
        let faults = FaultInjector()
        faults.failNext(.update, with: ExportError(.versionConflict, "first"))
        faults.failNext(.update, with: ExportError(.timeout, "second"))
        #expect { try faults.check(.update) } throws: { ($0 as? ExportError)?.code == .versionConflict }
        #expect { try faults.check(.update) } throws: { ($0 as? ExportError)?.code == .timeout }
        #expect(throws: Never.self) { try faults.check(.update) }
    }

    @Test func failAlwaysLastsUntilReset() throws {
        let faults = FaultInjector()
        faults.failAlways(.receive, with: ExportError(.unavailable, "down"))
        for _ in 0..<5 { #expect(throws: ExportError.self) { try faults.check(.receive) } }
        faults.reset(.receive)
        try faults.check(.receive)
        #expect(faults.callCount(.receive) == 6)
        faults.reset()
        #expect(faults.callCount(.receive) == 0)
    }

    @Test func hostsCanDefineTheirOwnOperations() {
        let refund = FaultInjector.Operation("host.refund")
        let faults = FaultInjector()
        faults.failNext(refund, with: ExportError(.permanent, "no"))
        #expect(throws: ExportError.self) { try faults.check(refund) }
        #expect(refund.description == "host.refund")
    }

    @Test func aFailedCallLeavesTheAdapterUnchanged() async throws {
        let store = InMemoryJobStore()
        store.faults.failNext(.create, with: ExportError(.unavailable, "down"))
        await #expect(throws: ExportError.self) { try await store.create(Fixtures.job("j1")) }
        #expect(await store.count == 0)
        _ = try await store.create(Fixtures.job("j1"))
        #expect(await store.count == 1)
    }

    @Test func oneInjectorCanScriptSeveralAdapters() async throws {
        let faults = FaultInjector()
        let queue = InMemoryQueue(clock: ManualClock(), faults: faults)
        let notifier = InMemoryNotifier(faults: faults)
        faults.failNext(.enqueue, with: ExportError(.throttled, "slow down"))
        faults.failNext(.send, with: ExportError(.unavailable, "smtp down"))
        let error = await #expect(throws: ExportError.self) { try await queue.enqueue(Fixtures.message("j1")) }
        #expect(error?.isRetryable == true)
        #expect(await queue.pendingMessages.isEmpty)
        let notification = ExportNotification(
            jobID: JobID("j1")!, owner: "alice", recipient: EmailAddress("a@example.com")!, content: .failed(reason: "x")
        )
        await #expect(throws: ExportError.self) { try await notifier.send(notification) }
        #expect(await notifier.sent.isEmpty)
        try await notifier.send(notification)
        #expect(await notifier.sent == [notification])
        #expect(await notifier.sendAttempts(for: notification.idempotencyKey) == 2)
    }
}
