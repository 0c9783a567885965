extension FaultInjector {
    /// An operation of a port that can be made to fail, such as ``create`` or ``enqueue``.
    ///
    /// A struct with static members rather than an enum, so host fakes can add their own:
    /// `extension FaultInjector.Operation { static let refund = Self("refund") }`.
    public struct Operation: Hashable, Sendable, CustomStringConvertible {
        /// The operation's name.
        public let name: String

        /// Names an operation.
        ///
        /// - Parameters:
        ///   - name: A name unique among the operations injected into one injector.
        public init(_ name: String) { self.name = name }

        /// The operation's name.
        public var description: String { name }

        // MARK: JobStore

        /// `JobStore.create(_:)`.
        public static let create = Self("jobStore.create")
        /// `JobStore.get(_:)`.
        public static let get = Self("jobStore.get")
        /// `JobStore.update(_:)`.
        public static let update = Self("jobStore.update")
        /// `JobStore.list(owner:after:limit:)`.
        public static let list = Self("jobStore.list")
        /// `JobStore.jobs(matching:after:limit:)`, the listing across owners.
        public static let listAll = Self("jobStore.listAll")
        /// `WorkerControlStore.workerControl()`.
        public static let workerControl = Self("workerControl.get")
        /// `WorkerControlStore.setWorkerControl(_:)`.
        public static let setWorkerControl = Self("workerControl.set")
        /// `JobStore.stale(in:updatedBefore:limit:)`.
        public static let stale = Self("jobStore.stale")
        /// `JobStore.unnotified(updatedBefore:limit:)`.
        public static let unnotified = Self("jobStore.unnotified")
        /// `JobStore.expired(now:limit:)`.
        public static let expired = Self("jobStore.expired")
        /// `JobStore.delete(_:)`.
        public static let deleteJob = Self("jobStore.delete")

        // MARK: Queue

        /// `Queue.enqueue(_:delay:)`.
        public static let enqueue = Self("queue.enqueue")
        /// `Queue.jobsWithLiveMessages(among:)`.
        public static let liveMessages = Self("queue.jobsWithLiveMessages")
        /// `Queue.receive(max:visibilityTimeout:waitTime:)`.
        public static let receive = Self("queue.receive")
        /// `Queue.acknowledge(_:)`.
        public static let acknowledge = Self("queue.acknowledge")
        /// `Queue.release(_:delay:)`.
        public static let release = Self("queue.release")
        /// `Queue.extendLease(_:by:)`.
        public static let extendLease = Self("queue.extendLease")
        /// `Queue.deadLetter(_:reason:)`.
        public static let deadLetter = Self("queue.deadLetter")
        /// `Queue.deadLetters(limit:)`.
        public static let deadLetters = Self("queue.deadLetters")
        /// `Queue.redrive(_:)`.
        public static let redrive = Self("queue.redrive")

        // MARK: BlobStore

        /// `BlobStore.beginWrite(key:contentType:)`.
        public static let beginWrite = Self("blobStore.beginWrite")
        /// `BlobWriter.append(_:)`.
        public static let append = Self("blobStore.append")
        /// `BlobWriter.finish()`.
        public static let finish = Self("blobStore.finish")
        /// `BlobWriter.abort()`.
        public static let abort = Self("blobStore.abort")
        /// `BlobStore.read(_:)`.
        public static let read = Self("blobStore.read")
        /// `BlobStore.metadata(_:)`.
        public static let metadata = Self("blobStore.metadata")
        /// `BlobStore.delete(_:)`.
        public static let delete = Self("blobStore.delete")
        /// `BlobStore.downloadLink(for:filename:expiresIn:)`.
        public static let downloadLink = Self("blobStore.downloadLink")
        /// `BlobStore.abortIncompleteWrites(startedBefore:)`.
        public static let abortIncompleteWrites = Self("blobStore.abortIncompleteWrites")
        /// `BlobWriter.checkpoint()`.
        public static let checkpoint = Self("blobStore.checkpoint")
        /// `BlobStore.resumeWrite(key:contentType:from:)`.
        public static let resumeWrite = Self("blobStore.resumeWrite")
        /// `BlobStore.discardWrite(_:)`.
        public static let discardWrite = Self("blobStore.discardWrite")

        // MARK: Notifier and MembershipSource

        /// `Notifier.send(_:)`.
        public static let send = Self("notifier.send")
        /// `MembershipSource.memberships(of:after:limit:)`.
        public static let page = Self("membershipSource.page")
    }
}
