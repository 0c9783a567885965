import ExportAdapters
@testable import ExportAWS
@testable import ExportFileSystem
@testable import ExportInMemory
import ExportCore
import Foundation
import Testing

/// Conditional writes whose first response is lost: the client's retry finds the item its own write
/// stored, and must report success rather than "someone else got there first".
@Suite("DynamoDB writes after a lost response", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct DynamoDBLostResponseTests {
    /// A store on a fresh table whose transport loses the first response of `operation`.
    static func makeStore(losing operation: String) async throws -> (DynamoDBJobStore, FaultTransport) {
        let peer = try await MotoServer.peer()
        let table = MotoServer.uniqueName("lost")
        try await DynamoDBJobStore(tableName: table, aws: MotoServer.configuration(peer)).createTable()
        let transport = FaultTransport(rule: FaultTransport.losingFirst(where: { $0.isTarget(operation) }))
        return (DynamoDBJobStore(tableName: table, aws: MotoServer.configuration(peer), transport: transport), transport)
    }

    @Test("A create whose PutItem response was lost is still .created")
    func createPut() async throws {
        let (store, transport) = try await Self.makeStore(losing: "PutItem")
        let job = DynamoDBJobStoreTests.job()
        let creation = try await store.create(job)
        #expect(transport.requests(target: "PutItem").count == 2, "the lost call was retried")
        guard case .created(let stored) = creation else { Issue.record("expected .created, got \(creation)"); return }
        #expect(stored.version == 1)
        #expect(try await store.create(job) == .existing(stored), "a second create still finds the first")
    }

    @Test("A create with a unique key whose TransactWriteItems response was lost is still .created")
    func createTransaction() async throws {
        let (store, transport) = try await Self.makeStore(losing: "TransactWriteItems")
        let job = DynamoDBJobStoreTests.job(key: "owner-1-lost")
        let creation = try await store.create(job)
        let calls = transport.requests(target: "TransactWriteItems")
        #expect(calls.count == 2)
        let tokens = calls.map { (try? JSONValue.parse($0.body))?["ClientRequestToken"]?.stringValue }
        #expect(tokens[0] != nil && tokens[0] == tokens[1], "the retry carries the same ClientRequestToken")
        guard case .created = creation else { Issue.record("expected .created, got \(creation)"); return }
        #expect(try await store.uniqueKeyHolder("owner-1-lost")?.0 == job.id)
    }

    @Test("An update whose PutItem response was lost returns the new version, not a conflict")
    func update() async throws {
        let (updater, lossy) = try await Self.makeStore(losing: "PutItem")
        let peer = try await MotoServer.peer()
        let store = DynamoDBJobStore(tableName: updater.tableName, aws: MotoServer.configuration(peer))
        var changed = try await store.create(DynamoDBJobStoreTests.job()).job
        changed.rowsWritten = 7
        let updated = try await updater.update(changed)
        #expect(lossy.requests(target: "PutItem").count == 2, "the lost call was retried")
        #expect(updated.version == 2)
        #expect(try await store.get(changed.id) == updated)
    }

    @Test("A ledger reservation whose response was lost is still .reserved")
    func ledgerReserve() async throws {
        let (store, _) = try await Self.makeStore(losing: "none")
        let peer = try await MotoServer.peer()
        let transport = FaultTransport(rule: FaultTransport.losingFirst(where: { $0.isTarget("PutItem") }))
        let ledger = DynamoDBNotificationLedger(tableName: store.tableName, aws: MotoServer.configuration(peer), transport: transport)
        let now = Date(timeIntervalSince1970: 1_767_225_600)
        #expect(try await ledger.reserve("k1", now: now, holdFor: .seconds(60)) == .reserved)
        #expect(transport.requests(target: "PutItem").count == 2)
        #expect(try await ledger.reserve("k1", now: now, holdFor: .seconds(60)) == .inProgress(until: now.addingTimeInterval(60)))
    }
}
