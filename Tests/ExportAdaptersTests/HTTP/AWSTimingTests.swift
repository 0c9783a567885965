import ExportAdapters
import ExportCore
import Foundation
import Synchronization
import Testing

/// Waiting and lease bookkeeping of the AWS adapters, on injected clocks and scripted answers.
@Suite("AWS adapter timing")
struct AWSTimingTests {
    static let aws = AWSConfiguration(credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "SK"), region: "eu-west-1")

    static func json(_ text: String) -> TransportResponse {
        TransportResponse(status: 200, body: Array(text.utf8))
    }

    @Test("createTable waits until the table and its index are ACTIVE before UpdateTimeToLive")
    func createTableWaits() async throws {
        let describes = Mutex(0)
        let transport = FaultTransport { request, _ in
            guard request.isTarget("DescribeTable") else { return .respond(Self.json("{}")) }
            let count = describes.withLock { count in
                count += 1
                return count
            }
            let (table, index) = count == 1 ? ("CREATING", "CREATING") : count == 2 ? ("ACTIVE", "CREATING") : ("ACTIVE", "ACTIVE")
            return .respond(Self.json(
                #"{"Table":{"TableStatus":"\#(table)","GlobalSecondaryIndexes":[{"IndexName":"owner-created","IndexStatus":"\#(index)"}]}}"#
            ))
        }
        let clock = RecordingClock()
        let store = DynamoDBJobStore(tableName: "t", aws: Self.aws, transport: transport, clock: clock)
        try await store.createTable()
        let targets = transport.requests.withLock { $0.compactMap { $0.header("x-amz-target")?.split(separator: ".").last.map(String.init) } }
        #expect(targets == ["CreateTable", "DescribeTable", "DescribeTable", "DescribeTable", "UpdateTimeToLive"])
        #expect(clock.sleeps == [.seconds(1), .seconds(1)], "waits on the injected clock")
    }

    @Test("createTable gives up after maxPolls with a timeout")
    func createTableGivesUp() async throws {
        let transport = FaultTransport { request, _ in
            .respond(Self.json(request.isTarget("DescribeTable") ? #"{"Table":{"TableStatus":"CREATING"}}"# : "{}"))
        }
        let store = DynamoDBJobStore(tableName: "t", aws: Self.aws, transport: transport, clock: RecordingClock())
        await #expect { try await store.createTable(maxPolls: 3) } throws: { ($0 as? ExportError)?.code == .timeout }
        #expect(transport.requests(target: "DescribeTable").count == 3)
        #expect(transport.requests(target: "UpdateTimeToLive").isEmpty)
    }

    @Test("An SQS lease is counted from before the receive call, however long the call took")
    func leaseFromBeforeTheCall() async throws {
        let clock = ManualClock()
        let start = clock.now()
        let transport = FaultTransport { request, _ in
            guard request.isTarget("ReceiveMessage") || request.isTarget("ChangeMessageVisibility") else { return .respond(Self.json("{}")) }
            clock.advance(by: .seconds(7))  // the call took 7 seconds
            return .respond(Self.json(#"""
            {"Messages":[{"MessageId":"m1","ReceiptHandle":"h1","Body":"{\"jobID\":\"\#(JobID.random())\"}"}]}
            """#))
        }
        let queue = SQSQueue(configuration: .init(queueURL: "q", deadLetterQueueURL: "d"), aws: Self.aws, transport: transport, clock: clock)
        let delivery = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        #expect(delivery.leaseExpiresAt == start.addingTimeInterval(30))
        let extended = try await queue.extendLease(delivery.receipt, by: .seconds(60))
        #expect(extended == start.addingTimeInterval(7 + 60))
    }

    @Test("release() with a delay sends ChangeMessageVisibility with that many seconds and ends the lease")
    func releaseWithDelay() async throws {
        let transport = FaultTransport { request, _ in
            guard request.isTarget("ReceiveMessage") else { return .respond(Self.json("{}")) }
            return .respond(Self.json(#"""
            {"Messages":[{"MessageId":"m1","ReceiptHandle":"h1","Body":"{\"jobID\":\"\#(JobID.random())\"}"}]}
            """#))
        }
        let queue = SQSQueue(configuration: .init(queueURL: "q", deadLetterQueueURL: "d"), aws: Self.aws, transport: transport)
        let delivery = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        try await queue.release(delivery.receipt, delay: .milliseconds(4_500))
        let change = try #require(transport.requests(target: "ChangeMessageVisibility").first)
        let body = try JSONValue.parse(change.body)
        #expect(body["VisibilityTimeout"] == .number(5), "4.5 s rounds up to whole seconds")
        #expect(body["ReceiptHandle"]?.stringValue == "h1")
        await #expect { try await queue.release(delivery.receipt, delay: .seconds(5)) } throws: { ($0 as? ExportError)?.code == .leaseLost }
    }
}

/// S3 calls retried in place on retryable errors.
@Suite("S3 retries in place")
struct S3RetryTests {
    @Test("One 503 SlowDown on UploadPart, Complete and a ranged GET does not fail the transfer")
    func slowDownOnce() async throws {
        let slowDown = TransportResponse(status: 503, body: Array("<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>".utf8))
        let seen = Mutex<Set<String>>([])
        let transport = FaultTransport { request, _ in
            let query = request.url.query ?? ""
            let kind = query.contains("partNumber=") ? "part" : query.contains("uploadId=") ? "complete"
                : request.method == "GET" ? "get" : query.contains("uploads") ? "create" : "other"
            let first = seen.withLock { $0.insert(kind).inserted }
            if first, ["part", "complete", "get"].contains(kind) { return .respond(slowDown) }
            switch kind {
            case "create": return .respond(TransportResponse(status: 200, body: Array("<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>".utf8)))
            case "part": return .respond(TransportResponse(status: 200, headers: ["ETag": "\"e\""]))
            case "complete": return .respond(TransportResponse(status: 200, body: Array("<CompleteMultipartUploadResult/>".utf8)))
            case "get": return .respond(TransportResponse(status: 206, body: [1, 2, 3]))
            default: return .respond(TransportResponse(status: 200, headers: ["Content-Length": "3", "ETag": "\"e\""]))
            }
        }
        let store = try S3BlobStore(configuration: .init(bucket: "b", partSize: S3BlobStore.Configuration.minimumPartSize), aws: AWSTimingTests.aws, transport: transport)
        let key = try BlobKey(validating: "big.bin")
        let writer = try await store.beginWrite(key: key, contentType: "application/octet-stream")
        try await writer.append([UInt8](repeating: 1, count: S3BlobStore.Configuration.minimumPartSize + 1))
        _ = try await writer.finish()
        var read: [UInt8] = []
        for try await chunk in try await store.read(key) { read += chunk }
        #expect(read == [1, 2, 3])
        let puts = transport.requests.withLock { $0.filter { ($0.url.query ?? "").contains("partNumber=") } }
        #expect(puts.count == 3, "two parts, the first sent again after SlowDown")
    }
}
