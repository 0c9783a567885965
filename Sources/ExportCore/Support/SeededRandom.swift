import Synchronization

/// A small, fast, seedable random generator (SplitMix64), for reproducible jitter in tests and demos.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator.
    ///
    /// - Parameters:
    ///   - seed: The seed; the same seed gives the same sequence.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    ///
    /// - Returns: A pseudo-random value.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A generator shared between tasks: a ``SplitMix64`` behind a lock.
final class SharedRandom: Sendable {
    private let generator: Mutex<SplitMix64>

    init(seed: UInt64?) {
        var system = SystemRandomNumberGenerator()
        generator = Mutex(SplitMix64(seed: seed ?? system.next()))
    }

    /// Runs `body` with exclusive use of the generator.
    func withGenerator<T, E: Error>(_ body: (inout SplitMix64) throws(E) -> T) throws(E) -> T {
        try generator.withLock { (generator) throws(E) -> T in try body(&generator) }
    }
}
