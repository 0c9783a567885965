extension ExportWorker {
    /// How a worker runs exports.
    public struct Configuration: Sendable {
        /// The most exports run at once by this worker.
        public var concurrency: Int
        /// How long a queue lease (and the job's lease) lasts; heartbeats renew it.
        public var visibilityTimeout: Duration
        /// How often a running export renews its lease; a third of the visibility timeout by default.
        public var heartbeatInterval: Duration
        /// How long one receive call waits for a message (long polling).
        public var receiveWaitTime: Duration
        /// How long to pause after a receive that failed or found nothing.
        public var idleDelay: Duration
        /// When to retry a failed attempt, and when to give up.
        public var retryPolicy: RetryPolicy
        /// How long the e-mailed download link works.
        public var linkExpiry: Duration
        /// How long a finished job and its file are kept.
        public var retention: Duration
        /// Rows per source page.
        public var pageSize: Int
        /// Bytes per blob append.
        public var chunkSize: Int
        /// The CSV dialect.
        public var csvOptions: CSVOptions
        /// The gzip level of `.csv.gz` files: 0 (store) to 9 (smallest); 6 by default.
        public var compressionLevel: Int
        /// The blob key prefix; each attempt writes its own file, `<prefix>/<job id>-<attempt>.<extension>`.
        public var keyPrefix: String
        /// How long a graceful shutdown lets running exports finish before stopping them.
        public var shutdownGracePeriod: Duration
        /// Seeds the backoff jitter; `nil` for a random seed.
        public var randomSeed: UInt64?
        /// The most deliveries of one message whose handling keeps failing outside the export itself
        /// (the job store, the notifier, the queue). Past it, or at once for an error that is not
        /// retryable, the message is dead-lettered and a job that has not ended is marked failed.
        public var maxDeliveries: Int

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - concurrency: The most exports at once; 2 by default.
        ///   - visibilityTimeout: The lease length; 5 minutes by default.
        ///   - heartbeatInterval: How often leases are renewed; a third of the lease by default.
        ///   - receiveWaitTime: How long a receive waits; 10 seconds by default.
        ///   - idleDelay: The pause after an empty or failed receive; 1 second by default.
        ///   - retryPolicy: The retry policy.
        ///   - linkExpiry: How long e-mailed links work; 7 days by default.
        ///   - retention: How long finished jobs are kept; 7 days by default.
        ///   - pageSize: Rows per source page; 1,000 by default.
        ///   - chunkSize: Bytes per blob append; 64 KiB by default.
        ///   - csvOptions: The CSV dialect.
        ///   - compressionLevel: The gzip level of `.csv.gz` files, clamped to 0...9; 6 by default
        ///     (level 1 is several times faster, for files about 20% larger; see Docs/Benchmarks.md).
        ///   - keyPrefix: The blob key prefix; `exports` by default.
        ///   - shutdownGracePeriod: How long shutdown waits for running exports; 30 seconds by default.
        ///   - randomSeed: Seeds the backoff jitter; `nil` for a random seed.
        ///   - maxDeliveries: The most deliveries of a message whose handling keeps failing; `nil` for
        ///     twice the retry policy's attempts plus 5 (redeliveries while a job waits count too).
        public init(
            concurrency: Int = 2,
            visibilityTimeout: Duration = .seconds(300),
            heartbeatInterval: Duration? = nil,
            receiveWaitTime: Duration = .seconds(10),
            idleDelay: Duration = .seconds(1),
            retryPolicy: RetryPolicy = RetryPolicy(),
            linkExpiry: Duration = .seconds(7 * 24 * 3600),
            retention: Duration = .seconds(7 * 24 * 3600),
            pageSize: Int = 1000,
            chunkSize: Int = 64 * 1024,
            csvOptions: CSVOptions = CSVOptions(),
            compressionLevel: Int = 6,
            keyPrefix: String = "exports",
            shutdownGracePeriod: Duration = .seconds(30),
            randomSeed: UInt64? = nil,
            maxDeliveries: Int? = nil
        ) {
            self.concurrency = max(1, concurrency)
            self.visibilityTimeout = visibilityTimeout
            self.heartbeatInterval = heartbeatInterval ?? visibilityTimeout / 3
            self.receiveWaitTime = receiveWaitTime
            self.idleDelay = idleDelay
            self.retryPolicy = retryPolicy
            self.linkExpiry = min(linkExpiry, retention)
            self.retention = retention
            self.pageSize = max(1, pageSize)
            self.chunkSize = max(1, chunkSize)
            self.csvOptions = csvOptions
            self.compressionLevel = min(9, max(0, compressionLevel))
            self.keyPrefix = keyPrefix
            self.shutdownGracePeriod = shutdownGracePeriod
            self.randomSeed = randomSeed
            let attempts = retryPolicy.maxAttempts
            self.maxDeliveries = max(1, maxDeliveries ?? (attempts > Int.max / 4 ? Int.max : 2 * attempts + 5))
        }
    }
}
