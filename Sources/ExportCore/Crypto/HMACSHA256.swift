/// HMAC-SHA256 (RFC 2104), for signed download links, webhook signatures and AWS SigV4.
public struct HMACSHA256: Sendable {
    private var inner: SHA256Hasher
    private var outerKey: [UInt8]

    /// Starts a MAC with a key.
    ///
    /// - Parameters:
    ///   - key: The secret key; keys longer than the block size are hashed first.
    public init(key: [UInt8]) {
        var key = key
        if key.count > SHA256Hasher.blockSize { key = SHA256Hasher.hash(key).bytes }
        key += [UInt8](repeating: 0, count: SHA256Hasher.blockSize - key.count)
        inner = SHA256Hasher()
        inner.update(key.map { $0 ^ 0x36 })
        outerKey = key.map { $0 ^ 0x5c }
    }

    /// Feeds more of the message.
    ///
    /// - Parameters:
    ///   - bytes: The next bytes.
    public mutating func update(_ bytes: [UInt8]) { inner.update(bytes) }

    /// Finishes the MAC.
    ///
    /// - Returns: The 32-byte authentication code.
    public mutating func finalize() -> SHA256Hasher.Digest {
        let innerDigest = inner.finalize()
        var outer = SHA256Hasher()
        outer.update(outerKey)
        outer.update(innerDigest.bytes)
        return outer.finalize()
    }

    /// The MAC of a message in one call.
    ///
    /// - Parameters:
    ///   - message: The message.
    ///   - key: The secret key.
    /// - Returns: The 32-byte authentication code.
    public static func authenticationCode(for message: [UInt8], key: [UInt8]) -> SHA256Hasher.Digest {
        var mac = HMACSHA256(key: key)
        mac.update(message)
        return mac.finalize()
    }

    /// Compares two MACs in time that does not depend on where they differ.
    ///
    /// - Parameters:
    ///   - lhs: One MAC.
    ///   - rhs: The other.
    /// - Returns: Whether they are equal.
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
