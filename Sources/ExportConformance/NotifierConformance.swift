import ExportCore
import Foundation

/// Checks that a `Notifier` delivers at most one message per idempotency key.
///
/// A notifier's effect happens outside the program, so the caller says how to observe it:
/// `deliveredCount` returns how many messages with a given idempotency key reached the recipient
/// (for a real service: ask a test inbox, a mock SMTP server, or the notifier's ledger).
///
/// ```swift
/// let notifier = InMemoryNotifier()
/// try await NotifierConformance(
///     makeNotifier: { notifier },
///     deliveredCount: { await notifier.deliveryCount(for: $0) }
/// ).run()
/// ```
public struct NotifierConformance: Sendable {
    let makeNotifier: @Sendable () async throws -> any Notifier
    let deliveredCount: @Sendable (String) async throws -> Int
    let recipient: EmailAddress?
    let concurrentSenders: Int

    /// Creates the suite.
    ///
    /// - Parameters:
    ///   - recipient: Where the test messages go; `conformance@example.com` by default (use an inbox
    ///     the service accepts).
    ///   - concurrentSenders: How many tasks send the same notification at once (at least 2); 8 by default.
    ///   - makeNotifier: Makes the notifier under test; called once per case.
    ///   - deliveredCount: How many messages with the given idempotency key were delivered.
    public init(
        recipient: EmailAddress? = nil,
        concurrentSenders: Int = 8,
        makeNotifier: @escaping @Sendable () async throws -> any Notifier,
        deliveredCount: @escaping @Sendable (String) async throws -> Int
    ) {
        self.recipient = recipient
        self.concurrentSenders = max(2, concurrentSenders)
        self.makeNotifier = makeNotifier
        self.deliveredCount = deliveredCount
    }

    /// Runs every case.
    ///
    /// - Throws: ``ConformanceFailure`` at the first broken requirement, or the notifier's own error
    ///   when it fails where it should not.
    public func run() async throws {
        try await runCase("Notifier", "a notification is delivered once", deliveredOnce)
        try await runCase("Notifier", "a repeated key is not delivered again", idempotentByKey)
        try await runCase("Notifier", "concurrent sends of one key deliver once", concurrentSends)
    }

    func notification(_ content: ExportNotification.Content, token: String) throws -> ExportNotification {
        let jobID = try require(JobID("conformance-\(token)"), "could not make a job id")
        let address = try require(recipient ?? EmailAddress("conformance@example.com"), "could not make an address")
        return ExportNotification(jobID: jobID, owner: UserID("owner-\(token)"), recipient: address, content: content)
    }

    func ready(token: String) throws -> ExportNotification {
        let link = try require(URL(string: "https://example.com/exports/\(token).csv"), "could not make a URL")
        let details = ExportNotification.ReadyDetails(
            link: link, expiresAt: Date(timeIntervalSince1970: 1_767_225_600), rows: 3, bytes: 120, format: .csv
        )
        return try notification(.ready(details), token: token)
    }

    private func deliveredOnce() async throws {
        let notifier = try await makeNotifier()
        let token = runToken()
        let ready = try ready(token: token)
        let failed = try notification(.failed(reason: "conformance check"), token: token)
        try check(ready.idempotencyKey != failed.idempotencyKey, "ready and failed messages share a key")
        let before = try await deliveredCount(ready.idempotencyKey)
        try check(before == 0, "\(before) messages were delivered before any was sent")
        try await notifier.send(ready)
        try await notifier.send(failed)
        let readyCount = try await deliveredCount(ready.idempotencyKey)
        let failedCount = try await deliveredCount(failed.idempotencyKey)
        try check(readyCount == 1, "a sent notification was delivered \(readyCount) times")
        try check(failedCount == 1, "a notification with another key was delivered \(failedCount) times")
    }

    private func idempotentByKey() async throws {
        let notifier = try await makeNotifier()
        let token = runToken()
        let ready = try ready(token: token)
        try await notifier.send(ready)
        try await notifier.send(ready)
        var altered = try notification(.failed(reason: "same key, other content"), token: token)
        altered.idempotencyKey = ready.idempotencyKey
        try await notifier.send(altered)
        let count = try await deliveredCount(ready.idempotencyKey)
        try check(count == 1, "three sends with one idempotency key delivered \(count) messages")
    }

    /// Concurrent sends of one key deliver once. A send that finds another in progress may return at
    /// once or throw a retryable error (the pipeline then tries again later, as a worker that finds a
    /// reservation held puts its message back); it must not throw anything else. A send after they all
    /// ended succeeds without delivering again.
    private func concurrentSends() async throws {
        let notifier = try await makeNotifier()
        let ready = try ready(token: runToken())
        let outcomes = await withTaskGroup(of: (any Error)?.self) { group -> [(any Error)?] in
            for _ in 0..<concurrentSenders {
                group.addTask {
                    do {
                        try await notifier.send(ready)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for case let error? in outcomes {
            try check(ExportError.isRetryable(error) && !(error is CancellationError), "a concurrent send failed for good: \(error)")
        }
        try check(outcomes.contains { $0 == nil }, "none of \(concurrentSenders) concurrent sends succeeded")
        try await notifier.send(ready)
        let count = try await deliveredCount(ready.idempotencyKey)
        try check(count == 1, "\(concurrentSenders) concurrent sends with one key delivered \(count) messages")
    }
}
