import ExportAdapters
import ExportCore
import Foundation
import Synchronization
import Testing

/// What the adapters put on the wire, checked without a peer through a recording transport.
@Suite("Request shapes")
struct RequestShapeTests {
    final class RecordingTransport: HTTPTransport {
        let requests = Mutex<[TransportRequest]>([])
        let status: Int
        init(status: Int = 200) { self.status = status }
        func send(_ request: TransportRequest) async throws -> TransportResponse {
            requests.withLock { $0.append(request) }
            return TransportResponse(status: status, headers: ["ETag": "\"e\""], body: [])
        }
    }

    static let aws = AWSConfiguration(
        credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "TOKEN"), region: "eu-west-1"
    )

    @Test("S3 on AWS uses virtual-hosted addressing, the key prefix, SSE and a content hash")
    func virtualHosted() async throws {
        let transport = RecordingTransport()
        let store = try S3BlobStore(
            configuration: .init(bucket: "my-bucket", keyPrefix: "exports/", serverSideEncryption: "aws:kms", kmsKeyID: "key-1"),
            aws: Self.aws, transport: transport
        )
        let writer = try await store.beginWrite(key: try BlobKey(validating: "u1/job.csv"), contentType: "text/csv")
        try await writer.append(Array("a\n".utf8))
        _ = try await writer.finish()
        let put = try #require(transport.requests.withLock { $0.first })
        #expect(put.method == "PUT")
        #expect(put.url.absoluteString == "https://my-bucket.s3.eu-west-1.amazonaws.com/exports/u1/job.csv")
        #expect(put.header("x-amz-server-side-encryption") == "aws:kms")
        #expect(put.header("x-amz-server-side-encryption-aws-kms-key-id") == "key-1")
        #expect(put.header("x-amz-content-sha256") == SHA256Hasher.hash(Array("a\n".utf8)).hexString)
        #expect(put.header("x-amz-security-token") == "TOKEN")
        #expect(put.header("content-type") == "text/csv")
        #expect(put.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AK/") == true)
        #expect(put.header("authorization")?.contains("/eu-west-1/s3/aws4_request") == true)
    }

    @Test("Path-style addressing with an endpoint override")
    func pathStyle() async throws {
        let transport = RecordingTransport()
        var aws = Self.aws
        aws.endpoint = URL(string: "http://127.0.0.1:9000")
        aws.s3PathStyle = true
        let store = try S3BlobStore(configuration: .init(bucket: "b"), aws: aws, transport: transport)
        try await store.delete(try BlobKey(validating: "x.csv"))
        #expect(transport.requests.withLock { $0.first?.url.absoluteString } == "http://127.0.0.1:9000/b/x.csv")
        let link = try await store.downloadLink(for: try BlobKey(validating: "x.csv"), filename: "x.csv", expiresIn: .seconds(60))
        #expect(link.url.absoluteString.hasPrefix("http://127.0.0.1:9000/b/x.csv?"))
        #expect(link.url.absoluteString.contains("X-Amz-Expires=60&"))
        #expect(link.url.absoluteString.contains("X-Amz-Security-Token=TOKEN"))
    }

    @Test("SQS and DynamoDB speak the JSON protocol with their targets")
    func jsonProtocol() async throws {
        let transport = RecordingTransport()
        let queue = SQSQueue(configuration: .init(queueURL: "q", deadLetterQueueURL: "d"), aws: Self.aws, transport: transport)
        _ = try await queue.receive(max: 10, visibilityTimeout: .seconds(30), waitTime: .seconds(20))
        let jobs = DynamoDBJobStore(tableName: "t", aws: Self.aws, transport: transport)
        _ = try await jobs.get(JobID.random())
        let (receive, get) = transport.requests.withLock { ($0[0], $0[1]) }
        #expect(receive.url.absoluteString == "https://sqs.eu-west-1.amazonaws.com/")
        #expect(receive.header("x-amz-target") == "AmazonSQS.ReceiveMessage")
        #expect(receive.header("content-type") == "application/x-amz-json-1.0")
        #expect(receive.timeout >= .seconds(30), "a 20-second long poll gets a longer HTTP timeout")
        #expect(get.url.absoluteString == "https://dynamodb.eu-west-1.amazonaws.com/")
        #expect(get.header("x-amz-target") == "DynamoDB_20120810.GetItem")
    }

    @Test("Status and service codes map to retryable or permanent errors", arguments: [
        (400, "ThrottlingException", ExportError.Code.throttled, true),
        (503, "SlowDown", .throttled, true),
        (500, "InternalError", .unavailable, true),
        (502, nil, .unavailable, true),
        (429, nil, .throttled, true),
        (408, nil, .timeout, true),
        (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", .throttled, true),
        (403, "AccessDenied", .permissionDenied, false),
        (403, "SignatureDoesNotMatch", .unauthorized, false),
        (400, "ValidationException", .invalidRequest, false),
        (404, "NoSuchKey", .notFound, false),
        (400, "AWS.SimpleQueueService.NonExistentQueue;Sender", .notFound, false),
        (400, "ReceiptHandleIsInvalid", .leaseLost, true),
        (400, "ConditionalCheckFailedException", .versionConflict, true),
        (418, nil, .invalidRequest, false),
        // SQS's x-amzn-query-error carries the AWS.SimpleQueueService. prefix.
        (400, "AWS.SimpleQueueService.MessageNotInflight;Sender", .leaseLost, true),
        (403, "AWS.SimpleQueueService.OverLimit;Sender", .throttled, true),
        (400, "AWS.SimpleQueueService.KmsThrottled;Sender", .throttled, true),
        (400, "KmsThrottled", .throttled, true),
        (400, "AWS.SimpleQueueService.ReceiptHandleIsInvalid;Sender", .leaseLost, true),
        // A bare 409/412 from a webhook receiver or memberships API is permanent like other 4xx.
        (409, nil, .invalidRequest, false),
        (412, nil, .invalidRequest, false),
    ] as [(Int, String?, ExportError.Code, Bool)])
    func mapping(status: Int, code: String?, expected: ExportError.Code, retryable: Bool) {
        let error = HTTPErrorMapping.error(status: status, serviceCode: code, message: "m", operation: "Op")
        #expect(error.code == expected)
        #expect(error.isRetryable == retryable)
    }

    @Test("Retry-After in seconds or as an HTTP date")
    func retryAfter() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(HTTPErrorMapping.retryDate("7", now: now) == now.addingTimeInterval(7))
        #expect(HTTPErrorMapping.retryDate("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == Date(timeIntervalSince1970: 784_111_777))
        #expect(HTTPErrorMapping.retryDate("soon", now: now) == nil)
        // Read by hand, strictly: no formatter sees the header (issue 17).
        for bad in [
            "Mon, 06 Nov 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMTx",
            "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 24:49:37 GMT",
        ] {
            #expect(HTTPErrorMapping.retryDate(bad, now: now) == nil, "\(bad)")
        }
        let error = HTTPErrorMapping.error(status: 429, serviceCode: nil, message: nil, operation: "Op", retryAfter: "3", now: now)
        #expect(error.retryAt == now.addingTimeInterval(3))
    }
}
