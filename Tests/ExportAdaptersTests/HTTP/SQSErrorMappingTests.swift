import ExportAdapters
@testable import ExportAWS
@testable import ExportFileSystem
@testable import ExportInMemory
import ExportCore
import Foundation
import Testing

/// How SQS's error answers (JSON protocol with the `x-amzn-query-error` header) reach the queue's callers.
@Suite("SQS error mapping")
struct SQSErrorMappingTests {
    static let aws = AWSConfiguration(credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "SK"), region: "eu-west-1")

    /// An SQS JSON-protocol error answer as AWS sends it.
    static func sqsError(status: Int, type: String, queryError: String, message: String) -> TransportResponse {
        TransportResponse(
            status: status,
            headers: ["x-amzn-query-error": queryError, "Content-Type": "application/x-amz-json-1.0"],
            body: Array(#"{"__type":"com.amazonaws.sqs#\#(type)","message":"\#(message)"}"#.utf8)
        )
    }

    /// A queue whose receives lease one message and whose other calls get `answer`.
    static func queue(answer: TransportResponse) -> (SQSQueue, FaultTransport) {
        let received = TransportResponse(status: 200, body: Array(#"""
        {"Messages":[{"MessageId":"m1","ReceiptHandle":"h1","Body":"{\"jobID\":\"\#(JobID.random())\"}",
          "Attributes":{"ApproximateReceiveCount":"1"}}]}
        """#.utf8))
        let transport = FaultTransport { request, _ in
            request.isTarget("ReceiveMessage") ? .respond(received) : .respond(answer)
        }
        let queue = SQSQueue(configuration: .init(queueURL: "q", deadLetterQueueURL: "d"), aws: aws, transport: transport)
        return (queue, transport)
    }

    @Test("Receipt rejections are lost leases, OverLimit is throttling", arguments: [
        (400, "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight;Sender", "Message not inflight", ExportError.Code.leaseLost),
        (400, "InvalidParameterValue", "InvalidParameterValue;Sender",
         "Value h1 for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", .leaseLost),
        (404, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid;Sender", "The input receipt handle is invalid.", .leaseLost),
        (403, "OverLimit", "AWS.SimpleQueueService.OverLimit;Sender", "Too many inflight messages", .throttled),
        (400, "InvalidParameterValue", "InvalidParameterValue;Sender", "Value -1 for parameter VisibilityTimeout is invalid.", .invalidRequest),
    ] as [(Int, String, String, String, ExportError.Code)])
    func releaseErrors(status: Int, type: String, queryError: String, message: String, expected: ExportError.Code) async throws {
        let (queue, _) = Self.queue(answer: Self.sqsError(status: status, type: type, queryError: queryError, message: message))
        let delivery = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        await #expect { try await queue.release(delivery.receipt, delay: .seconds(5)) } throws: { error in
            (error as? ExportError)?.code == expected
        }
    }

    /// A receipt handle as long as real ones (SQS's are several hundred characters of base64).
    static let longHandle: String = {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        return "AQEB" + String((0..<596).map { alphabet[($0 * 37 + 11) % alphabet.count] })
    }()

    /// SQS puts the handle before the words that say what is wrong with it, so the messages are far
    /// longer than the 300 characters an ``ExportError`` message keeps; the call must still be a lost lease.
    @Test("A rejection of a realistic 600-character receipt handle is a lost lease", arguments: [
        "Value \(longHandle) for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.",
        "The receipt handle \"\(longHandle)\" is not valid for this queue.",
    ])
    func longHandleRejection(message: String) async throws {
        #expect(Self.longHandle.count == 600)
        let body: JSONValue = ["__type": "com.amazonaws.sqs#InvalidParameterValue", "message": .string(message)]
        let answer = TransportResponse(
            status: 400,
            headers: ["x-amzn-query-error": "InvalidParameterValue;Sender", "Content-Type": "application/x-amz-json-1.0"],
            body: body.serialized()
        )
        let (queue, transport) = Self.queue(answer: answer)
        let delivery = try #require(try await queue.receive(max: 1, visibilityTimeout: .seconds(30), waitTime: .zero).first)
        await #expect { try await queue.release(delivery.receipt, delay: .seconds(5)) } throws: { error in
            (error as? ExportError)?.code == .leaseLost
        }
        await #expect { try await queue.acknowledge(delivery.receipt) } throws: { error in
            (error as? ExportError)?.code == .leaseLost
        }
        #expect(transport.requests(target: "ChangeMessageVisibility").count == 1)
        #expect(transport.requests(target: "DeleteMessage").count == 1, "the lease was still held: SQS answered the delete")
    }
}
