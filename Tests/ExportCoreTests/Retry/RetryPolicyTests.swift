import ExportCore
import Testing

/// The formulas are those of AWS's "Exponential Backoff And Jitter" (Marc Brooker, 2015).
@Suite("RetryPolicy")
struct RetryPolicyTests {
    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    @Test("no jitter: min(cap, base * 2^(attempt-1))")
    func exponential() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .seconds(1), maxDelay: .seconds(10), jitter: .none)
        var generator = SplitMix64(seed: 1)
        let delays = (1...6).map { policy.delay(afterAttempt: $0, using: &generator) }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
    }

    @Test("huge attempt numbers stay at the cap instead of overflowing")
    func overflow() {
        let policy = RetryPolicy(maxAttempts: 1000, baseDelay: .seconds(3), maxDelay: .seconds(60), jitter: .none)
        var generator = SplitMix64(seed: 1)
        #expect(policy.delay(afterAttempt: 500, using: &generator) == .seconds(60))
        #expect(policy.delay(afterAttempt: 0, using: &generator) == .seconds(3))
    }

    @Test("full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]", arguments: [1, 2, 3, 4, 8])
    func full(attempt: Int) {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .seconds(1), maxDelay: .seconds(10), jitter: .full)
        var generator = SplitMix64(seed: UInt64(attempt))
        let ceiling = min(10.0, Double(1 << (attempt - 1)))
        let samples = (0..<2000).map { _ in seconds(policy.delay(afterAttempt: attempt, using: &generator)) }
        #expect(samples.allSatisfy { $0 >= 0 && $0 <= ceiling })
        let mean = samples.reduce(0, +) / Double(samples.count)
        #expect(abs(mean - ceiling / 2) < ceiling * 0.05)
        #expect(samples.min()! < ceiling * 0.05)
        #expect(samples.max()! > ceiling * 0.95)
    }

    @Test("equal jitter: t/2 + uniform [0, t/2]", arguments: [1, 3, 6])
    func equal(attempt: Int) {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .seconds(1), maxDelay: .seconds(10), jitter: .equal)
        var generator = SplitMix64(seed: 7)
        let t = min(10.0, Double(1 << (attempt - 1)))
        let samples = (0..<2000).map { _ in seconds(policy.delay(afterAttempt: attempt, using: &generator)) }
        #expect(samples.allSatisfy { $0 >= t / 2 && $0 <= t })
        let mean = samples.reduce(0, +) / Double(samples.count)
        #expect(abs(mean - t * 0.75) < t * 0.05)
    }

    @Test("decorrelated jitter: min(cap, uniform [base, previous * 3]), starting from base")
    func decorrelated() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .seconds(1), maxDelay: .seconds(20), jitter: .decorrelated)
        var generator = SplitMix64(seed: 3)
        var previous: Duration? = nil
        for attempt in 1...200 {
            let delay = policy.delay(afterAttempt: attempt, previousDelay: previous, using: &generator)
            let upper = min(20.0, 3 * seconds(previous ?? .seconds(1)))
            #expect(seconds(delay) >= 1 && seconds(delay) <= upper)
            previous = delay
        }
    }

    @Test("the same seed gives the same delays")
    func deterministic() {
        let policy = RetryPolicy.exponentialJitter(maxAttempts: 5, base: .milliseconds(100), cap: .seconds(5))
        var first = SplitMix64(seed: 42)
        var second = SplitMix64(seed: 42)
        let a = (1...5).map { policy.delay(afterAttempt: $0, using: &first) }
        let b = (1...5).map { policy.delay(afterAttempt: $0, using: &second) }
        #expect(a == b)
    }

    @Test("decisions: permanent errors and exhausted attempts give up, the rest retry")
    func decisions() {
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: .seconds(1), maxDelay: .seconds(10), jitter: .none)
        var generator = SplitMix64(seed: 1)
        #expect(policy.decide(afterAttempt: 1, retryable: true, using: &generator) == .retry(after: .seconds(1)))
        #expect(policy.decide(afterAttempt: 2, retryable: true, using: &generator) == .retry(after: .seconds(2)))
        #expect(policy.decide(afterAttempt: 3, retryable: true, using: &generator) == .giveUp(.attemptsExhausted))
        #expect(policy.decide(afterAttempt: 1, retryable: false, using: &generator) == .giveUp(.permanentError))
    }

    @Test("errors say whether they are retryable")
    func retryableErrors() {
        #expect(ExportError.isRetryable(ExportError(.unavailable, "down")))
        #expect(ExportError.isRetryable(ExportError(.throttled, "slow down")))
        #expect(!ExportError.isRetryable(ExportError(.unknownColumn, "x")))
        #expect(!ExportError.isRetryable(ExportError(.permissionDenied, "no")))
        #expect(!ExportError.isRetryable(CancellationError()))
        #expect(ExportError(.notFound, "gone").shortDescription == "export.notFound")
        #expect(ExportError(.io, "x", isRetryable: false).isRetryable == false)
    }

    // MARK: Exact vectors

    /// Always returns 0xC000_0000_0000_0001. With the standard library's multiply-shift bounded
    /// random (Lemire's method), `UInt64.random(in: a...b)` then yields `a + floor(3 * (b - a + 1) / 4)`
    /// with no redraw, so each jitter's formula gives one exact, hand-computable delay.
    struct ThreeQuarters: RandomNumberGenerator {
        mutating func next() -> UInt64 { 0xC000_0000_0000_0001 }
    }

    static let exactPolicy = (base: Duration.seconds(1), cap: Duration.seconds(10))

    @Test("exact delays for every jitter (AWS formulas, random(a, b) = a + ⌊3(b − a + 1)/4⌋)", arguments: [
        // none: min(cap, base·2^(n−1))
        ("none", 1, nil, Duration.seconds(1)),
        ("none", 4, nil, .seconds(8)),
        ("none", 5, nil, .seconds(10)),
        // full: random(0, t), t = min(cap, base·2^(n−1))
        ("full", 1, nil, .nanoseconds(750_000_000)),
        ("full", 3, nil, .nanoseconds(3_000_000_000)),
        ("full", 5, nil, .nanoseconds(7_500_000_000)),
        // equal: t/2 + random(0, t/2)
        ("equal", 1, nil, .nanoseconds(875_000_000)),
        ("equal", 4, nil, .nanoseconds(7_000_000_000)),
        // decorrelated: min(cap, random(base, previous·3)), previous = base at first
        ("decorrelated", 1, nil, .nanoseconds(2_500_000_000)),
        ("decorrelated", 2, .nanoseconds(2_500_000_000), .nanoseconds(5_875_000_000)),
        ("decorrelated", 3, .nanoseconds(5_875_000_000), .seconds(10)),
    ] as [(String, Int, Duration?, Duration)])
    func exactVectors(jitter: String, attempt: Int, previous: Duration?, expected: Duration) {
        let kinds: [String: RetryPolicy.Jitter] = ["none": .none, "full": .full, "equal": .equal, "decorrelated": .decorrelated]
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: Self.exactPolicy.base, maxDelay: Self.exactPolicy.cap, jitter: kinds[jitter] ?? .none)
        var generator = ThreeQuarters()
        #expect(policy.delay(afterAttempt: attempt, previousDelay: previous, using: &generator) == expected)
    }

    @Test("extreme durations clamp instead of trapping")
    func extremeDurations() {
        // 18,446,744,073 s fits UInt64 nanoseconds, but adding the fraction's nanoseconds overflows.
        let huge = Duration(secondsComponent: 18_446_744_073, attosecondsComponent: 999_999_999_000_000_000)
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: huge, maxDelay: huge, jitter: .none)
        var generator = SplitMix64(seed: 1)
        #expect(policy.delay(afterAttempt: 1, using: &generator) == .nanoseconds(Int64.max))
        let longest = RetryPolicy(maxAttempts: 3, baseDelay: .seconds(Int64.max), maxDelay: .seconds(Int64.max), jitter: .decorrelated)
        #expect(longest.delay(afterAttempt: 2, previousDelay: .seconds(Int64.max), using: &generator) == .nanoseconds(Int64.max))
    }
}
