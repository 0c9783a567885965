import ExportAdapters
import ExportCore
import Foundation
import Testing

@Suite("SESNotifier against moto", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct SESNotifierTests {
    @Test("One e-mail per idempotency key, even when sent twice and concurrently, through the DynamoDB ledger")
    func onceThroughLedger() async throws {
        let peer = try await MotoServer.peer()
        let aws = MotoServer.configuration(peer)
        let table = DynamoDBJobStore(tableName: MotoServer.uniqueName("ledger"), aws: aws)
        try await table.createTable()
        let ledger = DynamoDBNotificationLedger(tableName: table.tableName, aws: aws)
        let notifier = SESNotifier(fromAddress: "exports@example.com", ledger: ledger, aws: aws)
        try await notifier.createIdentity("exports@example.com")

        let recipient = "\(MotoServer.uniqueName("user"))@example.com"
        let link = URL(string: "https://downloads.example.com/f.csv?a=1&b=2")!
        let notification = ExportNotification(
            jobID: JobID.random(), owner: UserID(rawValue: "u1"), recipient: EmailAddress(recipient)!,
            content: .ready(.init(link: link, expiresAt: Date(timeIntervalSince1970: 1_800_000_000), rows: 3, bytes: 2048, format: .csv))
        )
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { try? await notifier.send(notification) } }
        }
        try await notifier.send(notification)
        let messages = try await MotoServer.sentEmails(peer, to: recipient)
        #expect(messages.count == 1)
        #expect(messages.first?["subject"]?.stringValue == "Your membership export is ready")
        #expect(messages.first?["body"]?.stringValue?.contains("href=\"https://downloads.example.com/f.csv?a=1&amp;b=2\"") == true)
    }

    @Test("An unverified sender is a permanent error and releases the reservation")
    func unverified() async throws {
        let peer = try await MotoServer.peer()
        let ledger = InMemoryNotificationLedger()
        let notifier = SESNotifier(fromAddress: "\(MotoServer.uniqueName("nobody"))@example.com", ledger: ledger, aws: MotoServer.configuration(peer))
        let notification = ExportNotification(
            jobID: JobID.random(), owner: UserID(rawValue: "u1"), recipient: EmailAddress("u1@example.com")!, content: .failed(reason: "x")
        )
        let error = await #expect(throws: ExportError.self) { try await notifier.send(notification) }
        #expect(error?.isRetryable == false)
        #expect(try await ledger.reserve(notification.idempotencyKey, now: Date(), holdFor: .seconds(1)) == .reserved)
    }
}
