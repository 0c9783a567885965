extension ExportWorker {
    /// How a worker runs exports.
    ///
    /// Every value is a plain setting: nothing is derived or clamped when the configuration is made, so
    /// changing a property later is never silently ignored. Values left `nil` are derived where they are
    /// used (``resolvedHeartbeatInterval``, ``resolvedMaxDeliveries``), and ``validate()`` (which the
    /// worker calls when it is created) refuses values that cannot work, with a message that says what to
    /// change. The settings that other parts must agree on (retention, link lifetime, key prefix) are in
    /// ``ExportSettings``.
    public struct Configuration: Sendable {
        /// The most exports run at once by this worker; at least 1. 2 by default.
        public var concurrency: Int
        /// How long a queue lease (and the job's lease) lasts; heartbeats renew it. 5 minutes by default.
        public var visibilityTimeout: Duration
        /// How often a running export renews its lease, or `nil` for a third of ``visibilityTimeout``.
        public var heartbeatInterval: Duration?
        /// How long one receive call waits for a message (long polling); 10 seconds by default.
        public var receiveWaitTime: Duration
        /// How long to pause after a receive that found nothing; 1 second by default. After a failed
        /// receive the pause doubles with each failure in a row, up to ``maximumReceiveBackoff``.
        public var idleDelay: Duration
        /// The longest pause between failing receives; 30 seconds by default.
        public var maximumReceiveBackoff: Duration
        /// When to retry a failed attempt, and when to give up.
        public var retryPolicy: RetryPolicy
        /// Rows per source page; 1,000 by default.
        public var pageSize: Int
        /// Bytes per blob append; 64 KiB by default.
        public var chunkSize: Int
        /// The CSV dialect.
        public var csvOptions: CSVOptions
        /// The gzip level of `.csv.gz` files: 0 (store) to 9 (smallest); 6 by default (level 1 is
        /// several times faster, for files about 20% larger; see Docs/Benchmarks.md).
        public var compressionLevel: Int
        /// How long a graceful shutdown lets running exports finish before handing them back; 30 seconds.
        public var shutdownGracePeriod: Duration
        /// Seeds the backoff jitter; `nil` for a random seed.
        public var randomSeed: UInt64?
        /// The most deliveries of one message whose handling keeps failing outside the export itself
        /// (the job store, the notifier, the queue), or `nil` for twice the retry policy's attempts
        /// plus 5. Past it, or at once for an error that is not retryable, the message is dead-lettered.
        public var maxDeliveries: Int?
        /// How often the worker reads the shared pause switch (``ExportPorts/workerControl``) before it
        /// receives; 5 seconds by default. A pause reaches the worker at most this late; while paused
        /// it checks again at this interval.
        public var pauseCheckInterval: Duration
        /// Rows between an export's checkpoints, or `nil` for none; 50,000 by default. After a crash or
        /// a hand-back, the next attempt continues from the last checkpoint (when the blob store offers
        /// resumable writes) instead of row zero; each checkpoint costs one durable flush of the file and
        /// one job-store write. See ``ExportCheckpoint``.
        public var checkpointRows: Int?

        /// Creates a configuration; every parameter has the default its property documents.
        public init(
            concurrency: Int = 2,
            visibilityTimeout: Duration = .seconds(300),
            heartbeatInterval: Duration? = nil,
            receiveWaitTime: Duration = .seconds(10),
            idleDelay: Duration = .seconds(1),
            maximumReceiveBackoff: Duration = .seconds(30),
            retryPolicy: RetryPolicy = RetryPolicy(),
            pageSize: Int = 1000,
            chunkSize: Int = 64 * 1024,
            csvOptions: CSVOptions = CSVOptions(),
            compressionLevel: Int = 6,
            shutdownGracePeriod: Duration = .seconds(30),
            randomSeed: UInt64? = nil,
            maxDeliveries: Int? = nil,
            pauseCheckInterval: Duration = .seconds(5),
            checkpointRows: Int? = 50_000
        ) {
            self.checkpointRows = checkpointRows
            self.pauseCheckInterval = pauseCheckInterval
            self.concurrency = concurrency
            self.visibilityTimeout = visibilityTimeout
            self.heartbeatInterval = heartbeatInterval
            self.receiveWaitTime = receiveWaitTime
            self.idleDelay = idleDelay
            self.maximumReceiveBackoff = maximumReceiveBackoff
            self.retryPolicy = retryPolicy
            self.pageSize = pageSize
            self.chunkSize = chunkSize
            self.csvOptions = csvOptions
            self.compressionLevel = compressionLevel
            self.shutdownGracePeriod = shutdownGracePeriod
            self.randomSeed = randomSeed
            self.maxDeliveries = maxDeliveries
        }

        /// The heartbeat interval in force: ``heartbeatInterval``, or a third of ``visibilityTimeout``.
        public var resolvedHeartbeatInterval: Duration { heartbeatInterval ?? visibilityTimeout / 3 }

        /// The delivery bound in force: ``maxDeliveries``, or twice the retry policy's attempts plus 5. It counts
        /// the deliveries of a message that did not start an attempt (a failing notifier, a store that is
        /// down); interrupted and deferred attempts have their own budgets in ``RetryPolicy``.
        public var resolvedMaxDeliveries: Int {
            if let maxDeliveries { return maxDeliveries }
            let attempts = retryPolicy.maxAttempts
            return attempts > Int.max / 4 ? Int.max : 2 * attempts + 5
        }

        /// Checks that the configuration can work.
        ///
        /// - Throws: ``ExportError/Code/configuration`` naming the first setting to change.
        public func validate() throws(ExportError) {
            func refuse(_ message: String) -> ExportError { ExportError(.configuration, message) }
            guard concurrency >= 1 else { throw refuse("configuration.concurrency must be at least 1, not \(concurrency)") }
            guard visibilityTimeout >= .milliseconds(30) else {
                throw refuse("configuration.visibilityTimeout must be at least 30 ms, not \(visibilityTimeout)")
            }
            let beat = resolvedHeartbeatInterval
            guard beat >= .milliseconds(10), beat < visibilityTimeout else {
                throw refuse(
                    "configuration.heartbeatInterval (\(beat)) must be at least 10 ms and shorter than visibilityTimeout (\(visibilityTimeout)), or the lease runs out between beats")
            }
            guard receiveWaitTime >= .zero, idleDelay >= .zero, shutdownGracePeriod >= .zero else {
                throw refuse("configuration.receiveWaitTime, idleDelay and shutdownGracePeriod must not be negative")
            }
            guard maximumReceiveBackoff >= idleDelay else {
                throw refuse("configuration.maximumReceiveBackoff must be at least idleDelay")
            }
            guard pageSize >= 1 else { throw refuse("configuration.pageSize must be at least 1, not \(pageSize)") }
            if let checkpointRows, checkpointRows < 1 {
                throw refuse("configuration.checkpointRows must be at least 1 (or nil for no checkpoints), not \(checkpointRows)")
            }
            guard chunkSize >= 1 else { throw refuse("configuration.chunkSize must be at least 1, not \(chunkSize)") }
            guard (0...9).contains(compressionLevel) else {
                throw refuse("configuration.compressionLevel must be 0 to 9, not \(compressionLevel)")
            }
            guard pauseCheckInterval >= .milliseconds(10) else {
                throw refuse("configuration.pauseCheckInterval must be at least 10 ms, not \(pauseCheckInterval)")
            }
            guard resolvedMaxDeliveries >= 1 else {
                throw refuse("configuration.maxDeliveries must be at least 1, not \(resolvedMaxDeliveries)")
            }
        }
    }
}
