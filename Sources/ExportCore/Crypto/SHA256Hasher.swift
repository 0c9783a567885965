import CSHA256

/// SHA-256 (FIPS 180-4), streaming, with no crypto package.
///
/// The compression function is C (target `CSHA256`): on x86-64 CPUs with the SHA extensions and on
/// arm64 CPUs with the SHA2 crypto extension it uses those instructions, chosen at run time with a
/// CPU check, so one binary runs everywhere; elsewhere it is portable C. Every exported byte is
/// hashed, so this is on the export's hot path. ``Implementation`` forces one path (tests, benchmarks).
///
/// ```swift
/// var hash = SHA256Hasher()
/// hash.update(chunk1)
/// hash.update(chunk2)
/// let hex = hash.finalize().hexString
/// ```
public struct SHA256Hasher: Sendable {
    /// The digest size in bytes.
    public static let byteCount = 32
    /// The block size in bytes.
    public static let blockSize = 64

    /// Which compression function a hasher runs.
    public enum Implementation: String, Sendable, CaseIterable {
        /// Portable C, on every CPU.
        case portable
        /// The CPU's SHA-256 instructions (x86-64 SHA extensions, arm64 SHA2), where present.
        case hardware

        /// Whether this CPU can run it.
        public var isAvailable: Bool {
            switch self {
            case .portable: true
            case .hardware: csha256_hardware_available() == 1
            }
        }

        /// The fastest implementation this CPU runs.
        public static var preferred: Implementation { Implementation.hardware.isAvailable ? .hardware : .portable }
    }

    /// The compression function this hasher runs.
    public let implementation: Implementation
    var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
    var pending: [UInt8] = []
    var length: UInt64 = 0

    /// A fresh hash, with the fastest implementation this CPU runs.
    public init() {
        implementation = .preferred
        pending.reserveCapacity(Self.blockSize)
    }

    /// A fresh hash with a chosen implementation, or `nil` when this CPU cannot run it.
    ///
    /// - Parameters:
    ///   - implementation: The compression function to use.
    public init?(implementation: Implementation) {
        guard implementation.isAvailable else { return nil }
        self.implementation = implementation
        pending.reserveCapacity(Self.blockSize)
    }

    /// The digest of `bytes` in one call.
    ///
    /// - Parameters:
    ///   - bytes: The message.
    /// - Returns: The 32-byte digest.
    public static func hash(_ bytes: some Sequence<UInt8>) -> Digest {
        var hasher = SHA256Hasher()
        hasher.update(Array(bytes))
        return hasher.finalize()
    }

    /// Feeds more of the message.
    ///
    /// - Parameters:
    ///   - bytes: The next bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { update($0) }
    }

    /// Feeds more of the message.
    ///
    /// - Parameters:
    ///   - bytes: The next bytes.
    public mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        length &+= UInt64(bytes.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(Self.blockSize - pending.count, bytes.count)
            pending.append(contentsOf: UnsafeBufferPointer(start: base, count: take))
            offset = take
            guard pending.count == Self.blockSize else { return }
            var block: [UInt8] = []
            swap(&block, &pending)  // compress mutates self; moving the buffer out avoids a copy
            block.withUnsafeBufferPointer { compress($0.baseAddress!, blocks: 1) }
            block.removeAll(keepingCapacity: true)
            pending = block
        }
        let blocks = (bytes.count - offset) / Self.blockSize
        if blocks > 0 {
            compress(base + offset, blocks: blocks)
            offset += blocks * Self.blockSize
        }
        if offset < bytes.count { pending.append(contentsOf: UnsafeBufferPointer(start: base + offset, count: bytes.count - offset)) }
    }

    /// Feeds more of the message.
    ///
    /// - Parameters:
    ///   - text: The next bytes, as UTF-8.
    public mutating func update(_ text: String) { update(Array(text.utf8)) }

    /// Finishes the hash. The value should not be updated afterwards.
    ///
    /// - Returns: The 32-byte digest.
    public mutating func finalize() -> Digest {
        let bitLength = length &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % Self.blockSize != 56 { tail.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        tail.withUnsafeBufferPointer { compress($0.baseAddress!, blocks: $0.count / Self.blockSize) }
        pending.removeAll()
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7] {
            out.append(UInt8(truncatingIfNeeded: word >> 24))
            out.append(UInt8(truncatingIfNeeded: word >> 16))
            out.append(UInt8(truncatingIfNeeded: word >> 8))
            out.append(UInt8(truncatingIfNeeded: word))
        }
        return Digest(bytes: out)
    }

    /// Runs the compression function over whole blocks; the state tuple is eight contiguous words.
    private mutating func compress(_ data: UnsafePointer<UInt8>, blocks: Int) {
        let implementation = implementation
        withUnsafeMutableBytes(of: &state) { raw in
            let words = raw.baseAddress!.assumingMemoryBound(to: UInt32.self)
            switch implementation {
            case .portable: csha256_blocks_portable(words, data, blocks)
            case .hardware: csha256_blocks_hardware(words, data, blocks)
            }
        }
    }

    /// A SHA-256 digest.
    public struct Digest: Hashable, Sendable {
        /// The 32 digest bytes.
        public let bytes: [UInt8]

        /// The digest as lower-case hex.
        public var hexString: String { Hex.encode(bytes) }
    }
}
