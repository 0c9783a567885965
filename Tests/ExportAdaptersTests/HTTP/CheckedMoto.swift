import ExportAdapters
@testable import ExportAWS
@testable import ExportFileSystem
@testable import ExportInMemory
import ExportCore
import Foundation
import Synchronization

/// A moto that checks every signature: started with `INITIAL_NO_AUTH_ACTION_COUNT=3`, whose three
/// unchecked requests create an IAM user, its access key and an allow-all policy. One per test run.
enum CheckedMoto {
    private static let shared = Mutex<Task<(PeerProcess, AWSCredentials), any Error>?>(nil)

    /// The server and the credentials it accepts.
    static func shared() async throws -> (PeerProcess, AWSCredentials) {
        let task = shared.withLock { task in
            if let task { return task }
            let started = Task { try await start() }
            task = started
            return started
        }
        return try await task.value
    }

    private static func start() async throws -> (PeerProcess, AWSCredentials) {
        let peer = try await MotoServer.start(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "3"])
        let bootstrap = AWSServiceClient(
            configuration: MotoServer.configuration(peer), service: "iam", hostPrefix: "iam",
            transport: URLSessionTransport(), clock: SystemClock()
        )
        _ = try await iam(bootstrap, [("Action", "CreateUser"), ("UserName", "exporter")])
        let key = try await iam(bootstrap, [("Action", "CreateAccessKey"), ("UserName", "exporter")])
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        _ = try await iam(bootstrap, [
            ("Action", "PutUserPolicy"), ("UserName", "exporter"), ("PolicyName", "all"), ("PolicyDocument", policy),
        ])
        guard let id = key.first("AccessKeyId")?.text, let secret = key.first("SecretAccessKey")?.text else {
            throw PeerUnavailable(message: "CreateAccessKey returned no key")
        }
        return (peer, AWSCredentials(accessKeyID: id, secretAccessKey: secret))
    }

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

}
