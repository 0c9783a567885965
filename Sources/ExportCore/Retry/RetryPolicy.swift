/// When to try a failed export again, and how long to wait first.
///
/// Delays follow the formulas of AWS's "Exponential Backoff And Jitter" (Marc Brooker, 2015), with
/// `base` the first delay, `cap` the largest, and `attempt` counted from 1 for the first failure:
///
/// | jitter | delay |
/// | --- | --- |
/// | ``Jitter/none`` | `min(cap, base * 2^(attempt-1))` |
/// | ``Jitter/full`` | `random(0, min(cap, base * 2^(attempt-1)))` |
/// | ``Jitter/equal`` | `t/2 + random(0, t/2)` with `t = min(cap, base * 2^(attempt-1))` |
/// | ``Jitter/decorrelated`` | `min(cap, random(base, previous * 3))`, `previous` starting at `base` |
///
/// The policy is a pure value: the random source is passed in, so tests are deterministic.
public struct RetryPolicy: Hashable, Sendable {
    /// How random the delay is. Choices are static members so more can be added.
    public struct Jitter: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Kind: String, Hashable, Sendable { case none, full, equal, decorrelated }
        fileprivate let kind: Kind

        /// Plain exponential backoff, no randomness.
        public static let none = Jitter(kind: .none)
        /// A uniformly random delay between zero and the exponential delay.
        public static let full = Jitter(kind: .full)
        /// Half the exponential delay plus a random part of the other half.
        public static let equal = Jitter(kind: .equal)
        /// A random delay between the base and three times the previous delay.
        public static let decorrelated = Jitter(kind: .decorrelated)

        /// The jitter's name.
        public var description: String { kind.rawValue }
    }

    /// The most attempts a job gets, the first included. At least 1.
    public var maxAttempts: Int
    /// The first delay.
    public var baseDelay: Duration
    /// The largest delay.
    public var maxDelay: Duration
    /// How the delay is randomised.
    public var jitter: Jitter
    /// The most times a job is taken over after its worker lost the lease (killed, stalled past the
    /// lease); the next takeover fails it. Separate from ``maxAttempts`` and larger, so that crashes
    /// and deploys are not the user's failure while a job that kills every worker still ends. 20 by
    /// default.
    public var maxInterruptions: Int
    /// How long a run of environmental faults (``ExportError/Code/isEnvironmental``: a full disk, an
    /// unreachable or throttling service, a timeout) is retried without spending attempts. 6 hours by
    /// default: long enough for a person to grow the disk or bring the service back.
    public var environmentalBudget: Duration
    /// The largest delay between retries of an environmental fault (capped exponential backoff with
    /// full jitter from ``baseDelay``). 5 minutes by default.
    public var environmentalMaxDelay: Duration

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - maxAttempts: The most attempts, the first included; values below 1 count as 1.
    ///   - baseDelay: The first delay.
    ///   - maxDelay: The largest delay.
    ///   - jitter: How the delay is randomised; full jitter by default, as AWS recommends.
    ///   - maxInterruptions: The most takeovers after a lost lease; values below 1 count as 1.
    ///   - environmentalBudget: How long environmental faults are retried without spending attempts;
    ///     zero counts them like any retryable error.
    ///   - environmentalMaxDelay: The largest delay between those retries.
    public init(
        maxAttempts: Int = 5, baseDelay: Duration = .seconds(2), maxDelay: Duration = .seconds(300), jitter: Jitter = .full,
        maxInterruptions: Int = 20, environmentalBudget: Duration = .seconds(6 * 3600), environmentalMaxDelay: Duration = .seconds(300)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(.zero, baseDelay)
        self.maxDelay = max(self.baseDelay, maxDelay)
        self.jitter = jitter
        self.maxInterruptions = max(1, maxInterruptions)
        self.environmentalBudget = max(.zero, environmentalBudget)
        self.environmentalMaxDelay = max(self.baseDelay, environmentalMaxDelay)
    }

    /// Exponential backoff with full jitter.
    ///
    /// - Parameters:
    ///   - maxAttempts: The most attempts, the first included.
    ///   - base: The first delay.
    ///   - cap: The largest delay.
    /// - Returns: The policy.
    public static func exponentialJitter(maxAttempts: Int = 5, base: Duration = .seconds(2), cap: Duration = .seconds(300)) -> RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, baseDelay: base, maxDelay: cap, jitter: .full)
    }

    /// The delay before the next attempt.
    ///
    /// - Parameters:
    ///   - attempt: The attempt that just failed, counted from 1.
    ///   - previousDelay: The delay used before this attempt, for decorrelated jitter; `nil` at first.
    ///   - generator: The random source.
    /// - Returns: A delay between zero and ``maxDelay``.
    public func delay(
        afterAttempt attempt: Int,
        previousDelay: Duration? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> Duration {
        let base = Self.nanoseconds(baseDelay)
        let cap = Self.nanoseconds(maxDelay)
        let exponential: UInt64 = {
            let shift = UInt64(max(0, min(attempt - 1, 62)))
            let (product, overflow) = base.multipliedReportingOverflow(by: UInt64(1) << shift)
            return overflow ? cap : min(cap, product)
        }()
        let nanoseconds: UInt64
        switch jitter.kind {
        case .none:
            nanoseconds = exponential
        case .full:
            nanoseconds = UInt64.random(in: 0...exponential, using: &generator)
        case .equal:
            let half = exponential / 2
            nanoseconds = half + UInt64.random(in: 0...(exponential - half), using: &generator)
        case .decorrelated:
            let previous = previousDelay.map(Self.nanoseconds) ?? base
            let (tripled, overflow) = max(previous, base).multipliedReportingOverflow(by: 3)
            let upper = overflow ? UInt64.max : tripled
            nanoseconds = min(cap, UInt64.random(in: base...max(base, upper), using: &generator))
        }
        return .nanoseconds(Int64(clamping: nanoseconds))
    }

    /// The delay before retrying the `deferral`-th environmental fault in a row (counted from 1):
    /// exponential from ``baseDelay`` with full jitter, capped at ``environmentalMaxDelay``, never below
    /// ``baseDelay`` so a fault that heals slowly is not hammered.
    ///
    /// - Parameters:
    ///   - deferral: How many environmental faults in a row, this one included.
    ///   - generator: The random source.
    /// - Returns: A delay between ``baseDelay`` and ``environmentalMaxDelay``.
    public func environmentalDelay(afterDeferral deferral: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        var capped = self
        capped.maxDelay = environmentalMaxDelay
        capped.jitter = .full
        return max(baseDelay, capped.delay(afterAttempt: deferral, using: &generator))
    }

    /// Whether and when to retry after a failed attempt.
    ///
    /// - Parameters:
    ///   - attempt: The attempt that just failed, counted from 1.
    ///   - retryable: Whether the error allows a retry (see ``ExportError/isRetryable(_:)``).
    ///   - previousDelay: The delay used before this attempt, for decorrelated jitter.
    ///   - generator: The random source.
    /// - Returns: ``RetryDecision/retry(after:)`` or ``RetryDecision/giveUp(_:)``.
    public func decide(
        afterAttempt attempt: Int,
        retryable: Bool,
        previousDelay: Duration? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> RetryDecision {
        guard retryable else { return .giveUp(.permanentError) }
        guard attempt < maxAttempts else { return .giveUp(.attemptsExhausted) }
        return .retry(after: delay(afterAttempt: attempt, previousDelay: previousDelay, using: &generator))
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return UInt64(Int64.max) }
        let (total, carry) = whole.addingReportingOverflow(UInt64(max(0, attoseconds) / 1_000_000_000))
        return carry ? UInt64(Int64.max) : min(UInt64(Int64.max), total)
    }
}

/// The outcome of ``RetryPolicy/decide(afterAttempt:retryable:previousDelay:using:)``.
public enum RetryDecision: Hashable, Sendable {
    /// Why the policy gave up.
    public enum GiveUpReason: String, Hashable, Sendable {
        /// The error is permanent: retrying cannot help.
        case permanentError = "permanent error"
        /// The job used all its attempts.
        case attemptsExhausted = "attempts exhausted"
    }

    /// Try again after the delay.
    case retry(after: Duration)
    /// Stop trying.
    case giveUp(GiveUpReason)
}
