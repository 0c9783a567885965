import ExportCore
import Foundation

extension SQSQueue {
    /// The queue and its dead-letter queue.
    public struct Configuration: Sendable {
        /// The work queue's URL.
        public var queueURL: String
        /// The dead-letter queue's URL (also the target of the work queue's redrive policy).
        public var deadLetterQueueURL: String
        /// The longest long poll of one `ReceiveMessage` call (SQS allows 20 seconds).
        public var maximumWaitTime: Duration

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - queueURL: The work queue's URL.
        ///   - deadLetterQueueURL: The dead-letter queue's URL.
        ///   - maximumWaitTime: The longest long poll; 20 seconds by default.
        public init(queueURL: String, deadLetterQueueURL: String, maximumWaitTime: Duration = .seconds(20)) {
            self.queueURL = queueURL
            self.deadLetterQueueURL = deadLetterQueueURL
            self.maximumWaitTime = maximumWaitTime
        }
    }
}
