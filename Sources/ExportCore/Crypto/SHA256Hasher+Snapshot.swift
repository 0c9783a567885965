extension SHA256Hasher {
    /// A hash's midstream state, to continue it in another process: the eight chaining words, the bytes
    /// of the unfinished block and the message length so far.
    ///
    /// An export's checkpoint records it, so the resumed attempt's checksum covers the whole file
    /// without reading back what the earlier attempt wrote. It is plain data that comes back from a
    /// stored record; ``SHA256Hasher/init(resuming:implementation:)`` checks it before use.
    public struct Snapshot: Hashable, Sendable, Codable {
        /// The chaining words, 64 lower-case hex digits.
        public var state: String
        /// The bytes of the unfinished block (fewer than 64), as hex.
        public var pending: String
        /// The message length so far, in bytes.
        public var length: UInt64

        /// Creates a snapshot from its parts.
        ///
        /// - Parameters:
        ///   - state: The chaining words as 64 hex digits.
        ///   - pending: The unfinished block's bytes as hex.
        ///   - length: The message length so far.
        public init(state: String, pending: String, length: UInt64) {
            self.state = state
            self.pending = pending
            self.length = length
        }
    }

    /// The state so far; the hasher itself goes on unchanged.
    public var snapshot: Snapshot {
        var words: [UInt8] = []
        words.reserveCapacity(32)
        for word in [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7] {
            for shift in stride(from: 24, through: 0, by: -8) { words.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
        }
        return Snapshot(state: Hex.encode(words), pending: Hex.encode(pending), length: length)
    }

    /// Continues a hash from a snapshot, or `nil` when the snapshot is not one a hasher can have made
    /// (bad hex, 64 or more pending bytes, a pending count that does not match the length) or this CPU
    /// cannot run `implementation`.
    ///
    /// - Parameters:
    ///   - snapshot: What ``snapshot`` returned.
    ///   - implementation: The compression function to go on with; any gives the same digest.
    public init?(resuming snapshot: Snapshot, implementation: Implementation = .preferred) {
        guard snapshot.state.utf8.count == 64, let words = Hex.decode(snapshot.state), words.count == 32,
            snapshot.pending.utf8.count < 2 * Self.blockSize, let pending = Hex.decode(snapshot.pending),
            UInt64(pending.count) == snapshot.length % UInt64(Self.blockSize), snapshot.length <= UInt64.max / 8
        else { return nil }
        self.init(implementation: implementation)
        func word(_ index: Int) -> UInt32 {
            words[(4 * index)..<(4 * index + 4)].reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
        }
        state = (word(0), word(1), word(2), word(3), word(4), word(5), word(6), word(7))
        self.pending = pending
        self.pending.reserveCapacity(Self.blockSize)
        length = snapshot.length
    }
}
