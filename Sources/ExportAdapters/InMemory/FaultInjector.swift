import ExportCore
import Synchronization

/// Makes chosen operations of an in-memory adapter fail, for testing how a host reacts to errors.
///
/// Every in-memory adapter owns one (its `faults` property) and consults it at the start of each
/// operation, before changing anything: an injected failure leaves the adapter's state untouched, like
/// a request that never reached the service. Share one injector between several adapters to script
/// failures across them.
///
/// ```swift
/// let queue = InMemoryQueue(clock: clock)
/// queue.faults.failNext(.acknowledge, with: ExportError(.unavailable, "queue down"))
/// queue.faults.failAlways(.receive, with: ExportError(.timeout, "slow"))
/// queue.faults.reset()
/// ```
public final class FaultInjector: Sendable {
    private struct Rule {
        var remaining: Int?
        var error: ExportError
    }

    /// One operation's calls and scripted failures, under one key: a check hashes the operation once.
    private struct Entry {
        var calls = 0
        var rules: [Rule] = []

        /// Counts a call and takes the failure scripted for it, if any.
        mutating func check() -> ExportError? {
            calls += 1
            guard !rules.isEmpty else { return nil }
            let error = rules[0].error
            if let remaining = rules[0].remaining {
                if remaining <= 1 { rules.removeFirst() } else { rules[0].remaining = remaining - 1 }
            }
            return error
        }
    }

    private struct State {
        var entries: [Operation: Entry] = [:]
    }

    private let state = Mutex(State())

    /// Creates an injector that fails nothing.
    public init() {}

    /// Makes the next `count` calls of `operation` throw `error`.
    ///
    /// Scripts for the same operation queue up: `failNext(.send, with: a)` then `failNext(.send, with: b)`
    /// fails the next call with `a` and the one after with `b`.
    ///
    /// - Parameters:
    ///   - operation: The operation to fail.
    ///   - count: How many calls fail (at least 1; smaller values do nothing).
    ///   - error: The error to throw.
    public func failNext(_ operation: Operation, count: Int = 1, with error: ExportError) {
        guard count > 0 else { return }
        state.withLock { $0.entries[operation, default: Entry()].rules.append(Rule(remaining: count, error: error)) }
    }

    /// Makes every later call of `operation` throw `error`, until ``reset(_:)`` or ``reset()``.
    ///
    /// - Parameters:
    ///   - operation: The operation to fail.
    ///   - error: The error to throw.
    public func failAlways(_ operation: Operation, with error: ExportError) {
        state.withLock { $0.entries[operation, default: Entry()].rules.append(Rule(remaining: nil, error: error)) }
    }

    /// Removes every scripted failure and zeroes the call counts.
    public func reset() {
        state.withLock { $0 = State() }
    }

    /// Removes the scripted failures of one operation (its call count stays).
    ///
    /// - Parameters:
    ///   - operation: The operation to heal.
    public func reset(_ operation: Operation) {
        state.withLock { $0.entries[operation]?.rules = [] }
    }

    /// How many times `operation` was called, failed calls included.
    ///
    /// - Parameters:
    ///   - operation: The operation.
    /// - Returns: The number of calls since creation or the last ``reset()``.
    public func callCount(_ operation: Operation) -> Int {
        state.withLock { $0.entries[operation]?.calls ?? 0 }
    }

    /// Records a call of `operation` and throws if a failure is scripted for it.
    ///
    /// Adapters call this first thing in every operation; a host's own fake can do the same.
    ///
    /// - Parameters:
    ///   - operation: The operation being called.
    /// - Throws: The scripted `ExportError`, if any.
    public func check(_ operation: Operation) throws(ExportError) {
        let error: ExportError? = state.withLock { state in
            // Modified in place: one hash of the operation, no copy of its rules.
            state.entries[operation, default: Entry()].check()
        }
        if let error { throw error }
    }
}
