import ExportCore
import Foundation
import Synchronization

/// A `Queue` kept in memory, with leases that expire on an injected clock.
///
/// Semantics match the durable adapters: at-least-once delivery, leases with receive counts, receipts
/// that change on every delivery (an old receipt throws `ExportError.Code.leaseLost`), delays, release
/// with a delay, lease extension, dead letters and redrive. A receipt is valid only while its lease has
/// not run out on ``clock``. `receive` long-polls: with a positive `waitTime` and nothing visible it
/// waits on the clock, and returns as soon as a message becomes visible or is enqueued.
///
/// Use `ManualClock` in tests so that leases expire when the test advances the clock.
///
/// A class whose state sits behind one lock (not an actor), as the other in-memory adapters: every
/// call is a short critical section, so a worker's receives and acknowledgements and its clients'
/// enqueues never wait for an executor.
public final class InMemoryQueue: Queue, Sendable {
    struct Entry {
        let id: MessageID
        let message: QueueMessage
        let sequence: UInt64
        var visibleAt: Date
        var receiveCount = 0
        var receipt: LeaseReceipt?
    }

    /// A stamp of an entry's `visibleAt` when it was set. A stamp is current while the entry still has
    /// that `visibleAt`; stale stamps (acknowledged, released, extended) are dropped when they surface.
    struct Stamp {
        let id: MessageID
        let sequence: UInt64
        let visibleAt: Date
    }

    struct State {
        var entries: [MessageID: Entry] = [:]
        var leases: [LeaseReceipt: MessageID] = [:]
        var dead: [DeadLetter] = []
        var sequence: UInt64 = 0
        /// Stamps not yet due, soonest first: what becomes visible next, without scanning every entry.
        var waiting = MinHeap<Stamp> { $0.visibleAt < $1.visibleAt }
        /// Stamps already due, oldest message first: the next deliveries.
        var due = MinHeap<Stamp> { $0.sequence < $1.sequence }
        /// Waiting receives, woken when something changed.
        var waiters: [UInt64: Wakeup] = [:]
        var nextWaiterID: UInt64 = 0
    }

    let state = Mutex(State())
    /// What waiting receives sleep on: one sleep on the clock for all of them, not one each.
    private let timer: SharedTimer

    /// The clock leases and delays are measured on.
    public let clock: any ExportClock
    /// Makes chosen operations fail; see ``FaultInjector``.
    public let faults: FaultInjector

    /// Creates an empty queue.
    ///
    /// - Parameters:
    ///   - clock: The clock for leases and delays; the system clock by default, a `ManualClock` in tests.
    ///   - faults: The fault injector to consult; a fresh one by default.
    public init(clock: any ExportClock = SystemClock(), faults: FaultInjector = FaultInjector()) {
        self.clock = clock
        self.faults = faults
        timer = SharedTimer(clock: clock)
    }

    /// Adds a message, visible after `delay`.
    ///
    /// - Parameters:
    ///   - message: The message.
    ///   - delay: How long before it may be delivered.
    /// - Returns: Its id.
    /// - Throws: `ExportError.Code.invalidRequest` for a negative delay, or an injected error.
    @discardableResult
    public func enqueue(_ message: QueueMessage, delay: Duration) async throws -> MessageID {
        try faults.check(.enqueue)
        try Self.requireNonNegative(delay, "delay")
        let visibleAt = clock.now().adding(delay)
        let (id, woken) = state.withLock { state in
            let id = state.insert(message, visibleAt: visibleAt)
            return (id, state.takeWaiters())
        }
        for waiter in woken { waiter.raise() }
        return id
    }

    /// Leases up to `max` visible messages, oldest first, waiting up to `waitTime` when none is visible.
    ///
    /// A cancelled task stops waiting and gets what is visible at that moment (often nothing).
    ///
    /// - Parameters:
    ///   - max: The most messages to return (1 to 10).
    ///   - visibilityTimeout: The lease length (positive).
    ///   - waitTime: How long to wait on the clock for a message; zero returns at once.
    /// - Returns: The leased deliveries.
    /// - Throws: `ExportError.Code.invalidRequest` for arguments out of range, or an injected error.
    public func receive(max: Int, visibilityTimeout: Duration, waitTime: Duration) async throws -> [Delivery] {
        try faults.check(.receive)
        guard (1...10).contains(max) else {
            throw ExportError(.invalidRequest, "receive takes 1 to 10 messages at a time, not \(max)")
        }
        guard visibilityTimeout > .zero else {
            throw ExportError(.invalidRequest, "the visibility timeout must be positive")
        }
        try Self.requireNonNegative(waitTime, "wait time")
        let deadline = clock.now().adding(waitTime)
        while true {
            if let deliveries = await leaseOrWait(max: max, visibilityTimeout: visibilityTimeout, deadline: deadline) {
                return deliveries
            }
        }
    }

    /// Deletes a delivered message.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    /// - Throws: `ExportError.Code.leaseLost` when the lease is no longer held, or an injected error.
    public func acknowledge(_ receipt: LeaseReceipt) async throws {
        try faults.check(.acknowledge)
        let now = clock.now()
        try state.withLock { state throws(ExportError) in
            let entry = try state.held(receipt, now: now)
            state.entries[entry.id] = nil
            state.leases[receipt] = nil
        }
    }

    /// Gives a delivered message back, visible again after `delay`.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - delay: How long it stays invisible.
    /// - Throws: `ExportError.Code.leaseLost` when the lease is no longer held, or an injected error.
    public func release(_ receipt: LeaseReceipt, delay: Duration) async throws {
        try faults.check(.release)
        try Self.requireNonNegative(delay, "delay")
        let now = clock.now()
        let woken = try state.withLock { state throws(ExportError) in
            var entry = try state.held(receipt, now: now)
            state.leases[receipt] = nil
            entry.receipt = nil
            entry.visibleAt = now.adding(delay)
            state.entries[entry.id] = entry
            state.schedule(entry)
            return state.takeWaiters()
        }
        for waiter in woken { waiter.raise() }
    }

    /// Extends a lease to `visibilityTimeout` from now.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - visibilityTimeout: The new lease length, from now (positive).
    /// - Returns: When the lease now expires.
    /// - Throws: `ExportError.Code.leaseLost` when the lease is no longer held, or an injected error.
    @discardableResult
    public func extendLease(_ receipt: LeaseReceipt, by visibilityTimeout: Duration) async throws -> Date {
        try faults.check(.extendLease)
        guard visibilityTimeout > .zero else {
            throw ExportError(.invalidRequest, "the visibility timeout must be positive")
        }
        let now = clock.now()
        return try state.withLock { state throws(ExportError) in
            var entry = try state.held(receipt, now: now)
            entry.visibleAt = now.adding(visibilityTimeout)
            state.entries[entry.id] = entry
            state.schedule(entry)
            return entry.visibleAt
        }
    }

    /// Moves a delivered message to the dead letters.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - reason: Why.
    /// - Throws: `ExportError.Code.leaseLost` when the lease is no longer held, or an injected error.
    public func deadLetter(_ receipt: LeaseReceipt, reason: String) async throws {
        try faults.check(.deadLetter)
        let now = clock.now()
        try state.withLock { state throws(ExportError) in
            let entry = try state.held(receipt, now: now)
            state.entries[entry.id] = nil
            state.leases[receipt] = nil
            state.dead.append(
                DeadLetter(
                    id: entry.id, message: entry.message, reason: reason,
                    receiveCount: entry.receiveCount, deadLetteredAt: now
                )
            )
        }
    }

    /// Lists dead letters, oldest first.
    ///
    /// - Parameters:
    ///   - limit: The most to return.
    /// - Returns: The dead letters.
    /// - Throws: An injected `ExportError`.
    public func deadLetters(limit: Int) async throws -> [DeadLetter] {
        try faults.check(.deadLetters)
        return state.withLock { Array($0.dead.prefix(max(0, limit))) }
    }

    /// Moves dead letters back as fresh messages (new ids, receive count 0), visible at once.
    ///
    /// - Parameters:
    ///   - ids: The dead letters to move, or `nil` for all.
    /// - Returns: How many were moved.
    /// - Throws: An injected `ExportError`.
    @discardableResult
    public func redrive(_ ids: [MessageID]?) async throws -> Int {
        try faults.check(.redrive)
        let wanted = ids.map(Set.init)
        let now = clock.now()
        let (count, woken) = state.withLock { state in
            let moving = state.dead.filter { wanted?.contains($0.id) ?? true }
            state.dead.removeAll { wanted?.contains($0.id) ?? true }
            for letter in moving { state.insert(letter.message, visibleAt: now) }
            return (moving.count, state.takeWaiters())
        }
        for waiter in woken { waiter.raise() }
        return count
    }

    /// Which of `jobs` have a waiting, delayed or leased message (one scan of the live messages).
    ///
    /// - Parameters:
    ///   - jobs: The jobs to look for.
    /// - Returns: The jobs with a live message; never `nil`.
    /// - Throws: An injected `ExportError`.
    public func jobsWithLiveMessages(among jobs: Set<JobID>) async throws -> Set<JobID>? {
        try faults.check(.liveMessages)
        guard !jobs.isEmpty else { return [] }
        return state.withLock { state in
            var live = Set<JobID>()
            for entry in state.entries.values where jobs.contains(entry.message.jobID) { live.insert(entry.message.jobID) }
            return live
        }
    }

    // MARK: Internals

    /// Leases what is visible, or else registers as a waiter, in one critical section (so an enqueue in
    /// between cannot go unnoticed), and waits until something changes, the deadline or the next
    /// delayed message comes, or the task is cancelled.
    ///
    /// - Returns: The deliveries when the receive is over (some were leased, the deadline passed or the
    ///   task was cancelled), `nil` to lease again.
    private func leaseOrWait(max: Int, visibilityTimeout: Duration, deadline: Date) async -> [Delivery]? {
        let now = clock.now()
        let wakeup = Wakeup()
        let step = state.withLock { state -> WaitStep in
            let deliveries = state.lease(max: max, visibilityTimeout: visibilityTimeout, now: now)
            if !deliveries.isEmpty || Self.isDue(deadline, now) || Task.isCancelled { return .done(deliveries) }
            state.nextWaiterID += 1
            state.waiters[state.nextWaiterID] = wakeup
            var wakeAt = deadline
            if let next = state.nextVisibleAt() { wakeAt = min(wakeAt, next) }
            // Rounded down: waking early is harmless (the loop waits again), waking late could leave a
            // test that advanced a manual clock exactly to the deadline waiting forever.
            // Clamped: a huge wait time must not trap converting to Int64.
            let wait = Swift.min((wakeAt.timeIntervalSince(now) * 1000).rounded(.down), 1e15)
            return .wait(state.nextWaiterID, .milliseconds(Swift.max(1, wait.isNaN ? 1 : Int64(wait))))
        }
        switch step {
        case .done(let deliveries):
            return deliveries
        case .wait(let id, let duration):
            // Woken, timed out or cancelled: the loop leases again (and returns when cancelled). The
            // sleep's only error is CancellationError, which the loop sees through Task.isCancelled,
            // so there is nothing to report.
            _ = try? await timer.sleep(for: duration, unless: wakeup)
            state.withLock { _ = $0.waiters.removeValue(forKey: id) }
            return nil
        }
    }

    private enum WaitStep {
        /// The receive is over, with these deliveries.
        case done([Delivery])
        /// Registered as waiter `id`: sleep this long at most.
        case wait(UInt64, Duration)
    }

    /// Whether `date` has come at `now`, give or take a millisecond: the tolerance absorbs the rounding
    /// of `Date` arithmetic, so a message delayed by exactly the time a test advanced its clock is due.
    static func isDue(_ date: Date, _ now: Date) -> Bool {
        date.timeIntervalSince(now) <= 0.001
    }

    private static func requireNonNegative(_ duration: Duration, _ what: String) throws(ExportError) {
        guard duration >= .zero else { throw ExportError(.invalidRequest, "the \(what) must not be negative") }
    }
}

extension InMemoryQueue.State {
    @discardableResult
    mutating func insert(_ message: QueueMessage, visibleAt: Date) -> MessageID {
        sequence += 1
        let id = MessageID("msg-\(sequence)")
        let entry = InMemoryQueue.Entry(id: id, message: message, sequence: sequence, visibleAt: visibleAt)
        entries[id] = entry
        schedule(entry)
        return id
    }

    mutating func lease(max: Int, visibilityTimeout: Duration, now: Date) -> [Delivery] {
        var visible: [InMemoryQueue.Entry] = []
        promoteDue(now)
        var taken: Set<MessageID> = []  // an entry stamped twice with one time must be leased once
        while visible.count < max, let stamp = due.pop() {
            if let entry = current(stamp), taken.insert(entry.id).inserted { visible.append(entry) }
        }
        return visible.map { original in
            var entry = original
            if let old = entry.receipt { leases[old] = nil }
            sequence += 1
            let receipt = LeaseReceipt("\(entry.id.rawValue)/\(sequence)")
            entry.receiveCount += 1
            entry.receipt = receipt
            entry.visibleAt = now.adding(visibilityTimeout)
            entries[entry.id] = entry
            schedule(entry)
            leases[receipt] = entry.id
            return Delivery(
                id: entry.id, message: entry.message, receipt: receipt,
                receiveCount: entry.receiveCount, leaseExpiresAt: entry.visibleAt
            )
        }
    }

    /// Records the entry's current `visibleAt` in the visibility order.
    mutating func schedule(_ entry: InMemoryQueue.Entry) {
        waiting.push(InMemoryQueue.Stamp(id: entry.id, sequence: entry.sequence, visibleAt: entry.visibleAt))
    }

    /// The entry a stamp belongs to, if the stamp is still current.
    func current(_ stamp: InMemoryQueue.Stamp) -> InMemoryQueue.Entry? {
        guard let entry = entries[stamp.id], entry.visibleAt == stamp.visibleAt else { return nil }
        return entry
    }

    /// Moves the stamps that have come due from `waiting` to `due`, dropping stale ones.
    mutating func promoteDue(_ now: Date) {
        while let top = waiting.first, InMemoryQueue.isDue(top.visibleAt, now) {
            waiting.pop()
            if current(top) != nil { due.push(top) }
        }
    }

    /// When the next entry not yet visible becomes visible.
    mutating func nextVisibleAt() -> Date? {
        while let top = waiting.first {
            if current(top) != nil { return top.visibleAt }
            waiting.pop()
        }
        return nil
    }

    /// The entry leased under `receipt`, if that lease is current and has not run out at `now`.
    func held(_ receipt: LeaseReceipt, now: Date) throws(ExportError) -> InMemoryQueue.Entry {
        guard let id = leases[receipt], let entry = entries[id], entry.receipt == receipt else {
            throw ExportError(.leaseLost, "receipt \(receipt) does not hold a lease")
        }
        guard !InMemoryQueue.isDue(entry.visibleAt, now) else {
            throw ExportError(.leaseLost, "the lease of receipt \(receipt) ran out at \(entry.visibleAt)")
        }
        return entry
    }

    /// Takes every waiting receive, for the caller to wake once the lock is released.
    mutating func takeWaiters() -> [Wakeup] {
        guard !waiters.isEmpty else { return [] }
        let woken = Array(waiters.values)
        waiters = [:]
        return woken
    }
}
