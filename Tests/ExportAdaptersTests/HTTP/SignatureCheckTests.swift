@testable import ExportAdapters
import ExportCore
import Foundation
import Testing

/// moto checks signatures only after `INITIAL_NO_AUTH_ACTION_COUNT` requests, so this suite runs its
/// own moto with the count at 3: those three unchecked requests create an IAM user, its access key and
/// an allow-all policy; from then on every request is verified against that key's secret.
@Suite("Signatures checked by moto", .enabled(if: MotoServer.enabled, "moto not installed: pip install 'moto[server]'"))
struct SignatureCheckTests {
    static func iam(_ client: AWSServiceClient, _ parameters: [(String, String)]) async throws -> XMLNode {
        let body = (parameters + [("Version", "2010-05-08")]).map { "\(AWSSigner.encode($0.0))=\(AWSSigner.encode($0.1))" }
            .joined(separator: "&")
        let response = try await client.send(
            method: "POST", path: "/", headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(body.utf8)
        )
        guard response.isSuccess, let document = XMLNode.parse(response.body) else {
            throw client.xmlError(response, operation: parameters.first?.1 ?? "IAM")
        }
        return document
    }

    @Test("The right secret is accepted and a wrong secret is rejected as unauthorized, for S3 and SQS")
    func wrongSecretRejected() async throws {
        let peer = try await MotoServer.start(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "3"])
        defer { peer.stop() }
        let bootstrap = AWSServiceClient(
            configuration: MotoServer.configuration(peer), service: "iam", hostPrefix: "iam",
            transport: URLSessionTransport(), clock: SystemClock()
        )
        _ = try await Self.iam(bootstrap, [("Action", "CreateUser"), ("UserName", "exporter")])
        let key = try await Self.iam(bootstrap, [("Action", "CreateAccessKey"), ("UserName", "exporter")])
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        _ = try await Self.iam(bootstrap, [
            ("Action", "PutUserPolicy"), ("UserName", "exporter"), ("PolicyName", "all"), ("PolicyDocument", policy),
        ])
        let good = AWSCredentials(
            accessKeyID: try #require(key.first("AccessKeyId")?.text),
            secretAccessKey: try #require(key.first("SecretAccessKey")?.text)
        )
        var bad = good
        bad.secretAccessKey += "x"

        let configuration = try await SQSQueue.createQueues(named: "checked", aws: MotoServer.configuration(peer, credentials: good))
        let goodQueue = SQSQueue(configuration: configuration, aws: MotoServer.configuration(peer, credentials: good))
        try await goodQueue.enqueue(QueueMessage(jobID: JobID.random()))
        let badQueue = SQSQueue(configuration: configuration, aws: MotoServer.configuration(peer, credentials: bad))
        let sqsError = await #expect(throws: ExportError.self) { try await badQueue.enqueue(QueueMessage(jobID: JobID.random())) }
        #expect(sqsError?.code == .unauthorized, "\(String(describing: sqsError))")
        #expect(sqsError?.isRetryable == false)

        let goodStore = try S3BlobStore(configuration: .init(bucket: "checked"), aws: MotoServer.configuration(peer, credentials: good))
        try await goodStore.createBucket()
        let writer = try await goodStore.beginWrite(key: try BlobKey(validating: "a.csv"), contentType: "text/csv")
        try await writer.append(Array("a,b\n".utf8))
        _ = try await writer.finish()
        let badStore = try S3BlobStore(configuration: .init(bucket: "checked"), aws: MotoServer.configuration(peer, credentials: bad))
        let s3Error = await #expect(throws: ExportError.self) { try await badStore.delete(try BlobKey(validating: "a.csv")) }
        #expect(s3Error?.code == .unauthorized)
        #expect(try await goodStore.metadata(try BlobKey(validating: "a.csv"))?.size == 4)
    }
}
