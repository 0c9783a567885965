import ExportAdapters
@testable import ExportAWS
@testable import ExportFileSystem
@testable import ExportInMemory
import ExportCore
import Foundation
import Testing

/// moto checks signatures only after `INITIAL_NO_AUTH_ACTION_COUNT` requests, so this suite runs its
/// own moto with the count at 3: those three unchecked requests create an IAM user, its access key and
/// an allow-all policy; from then on every request is verified against that key's secret.
@Suite("Signatures checked by moto", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct SignatureCheckTests {
    @Test("The right secret is accepted and a wrong secret is rejected as unauthorized, for S3 and SQS")
    func wrongSecretRejected() async throws {
        let (peer, good) = try await CheckedMoto.shared()
        var bad = good
        bad.secretAccessKey += "x"

        let configuration = try await SQSQueue.createQueues(named: "checked-queue", aws: MotoServer.configuration(peer, credentials: good))
        let goodQueue = SQSQueue(configuration: configuration, aws: MotoServer.configuration(peer, credentials: good))
        try await goodQueue.enqueue(QueueMessage(jobID: JobID.random()))
        let badQueue = SQSQueue(configuration: configuration, aws: MotoServer.configuration(peer, credentials: bad))
        let sqsError = await #expect(throws: ExportError.self) { try await badQueue.enqueue(QueueMessage(jobID: JobID.random())) }
        #expect(sqsError?.code == .unauthorized, "\(String(describing: sqsError))")
        #expect(sqsError?.isRetryable == false)

        let goodStore = try S3BlobStore(configuration: .init(bucket: "checked-bucket"), aws: MotoServer.configuration(peer, credentials: good))
        try await goodStore.createBucket()
        let writer = try await goodStore.beginWrite(key: try BlobKey(validating: "a.csv"), contentType: "text/csv")
        try await writer.append(Array("a,b\n".utf8))
        _ = try await writer.finish()
        let badStore = try S3BlobStore(configuration: .init(bucket: "checked-bucket"), aws: MotoServer.configuration(peer, credentials: bad))
        let s3Error = await #expect(throws: ExportError.self) { try await badStore.delete(try BlobKey(validating: "a.csv")) }
        #expect(s3Error?.code == .unauthorized)
        #expect(try await goodStore.metadata(try BlobKey(validating: "a.csv"))?.size == 4)
    }
}

@Suite("Peer processes")
struct PeerProcessTests {
    @Test("A peer that fails to start reports the end of its stderr")
    func startFailureShowsStderr() async throws {
        let error = await #expect(throws: PeerUnavailable.self) {
            _ = try await PeerProcess.start(script: "no_such_fixture.py")
        }
        #expect(error?.message.contains("no_such_fixture.py") == true)
        #expect(error?.message.contains("stderr ends with") == true, "\(String(describing: error))")
    }
}
