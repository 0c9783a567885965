import ExportCore
import Testing

/// HMAC-SHA256 against every test case of RFC 4231, "Identifiers and Test Vectors for HMAC-SHA-224,
/// HMAC-SHA-256, HMAC-SHA-384, and HMAC-SHA-512", section 4 (cases 1 to 7; case 5 is truncated to
/// 128 bits as the RFC specifies).
@Suite("HMAC-SHA256 (RFC 4231 vectors)")
struct HMACSHA256Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let number: Int
        let key: [UInt8]
        let data: [UInt8]
        let expected: String
        var truncatedTo: Int? = nil
        var testDescription: String { "RFC 4231 test case \(number)" }
    }

    static let vectors: [Vector] = [
        Vector(
            number: 1, key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8),
            expected: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        Vector(
            number: 2, key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8),
            expected: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        Vector(
            number: 3, key: [UInt8](repeating: 0xaa, count: 20), data: [UInt8](repeating: 0xdd, count: 50),
            expected: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        Vector(
            number: 4, key: Array(1...25), data: [UInt8](repeating: 0xcd, count: 50),
            expected: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        Vector(
            number: 5, key: [UInt8](repeating: 0x0c, count: 20), data: Array("Test With Truncation".utf8),
            expected: "a3b6167473100ee06e0c796c2955552b", truncatedTo: 16),
        Vector(
            number: 6, key: [UInt8](repeating: 0xaa, count: 131),
            data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            expected: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        Vector(
            number: 7, key: [UInt8](repeating: 0xaa, count: 131),
            data: Array(
                ("This is a test using a larger than block-size key and a larger than block-size data. "
                    + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
            expected: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test("RFC 4231", arguments: vectors)
    func vector(_ vector: Vector) {
        let mac = HMACSHA256.authenticationCode(for: vector.data, key: vector.key).bytes
        let shown = vector.truncatedTo.map { Array(mac.prefix($0)) } ?? mac
        #expect(Hex.encode(shown) == vector.expected)
    }

    @Test("streaming updates equal one call")
    func streaming() {
        var mac = HMACSHA256(key: Array("key".utf8))
        mac.update(Array("The quick brown fox ".utf8))
        mac.update(Array("jumps over the lazy dog".utf8))
        let whole = HMACSHA256.authenticationCode(for: Array("The quick brown fox jumps over the lazy dog".utf8), key: Array("key".utf8))
        #expect(mac.finalize() == whole)
        // Well-known value (Wikipedia's HMAC example).
        #expect(whole.hexString == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    }

    @Test("constant-time comparison")
    func constantTimeEquals() {
        #expect(HMACSHA256.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!HMACSHA256.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!HMACSHA256.constantTimeEquals([1, 2, 3], [1, 2]))
    }
}
