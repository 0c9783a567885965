import ExportCore
import Testing

/// SHA-256 against the NIST examples.
///
/// Source: NIST FIPS 180-4 example values ("Cryptographic Standards and Guidelines: Examples with
/// Intermediate Values", SHA256.pdf and SHA2_Additional), and the NIST CAVP "one million a" long message.
@Suite("SHA-256 (NIST vectors)")
struct SHA256HasherTests {
    @Test(
        "one-shot digests",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            // The 448-bit message: two blocks once padded.
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            // The 896-bit message.
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
        ])
    func digest(message: String, expected: String) {
        #expect(SHA256Hasher.hash(Array(message.utf8)).hexString == expected)
    }

    @Test("one million 'a', fed in uneven chunks")
    func millionA() {
        var hasher = SHA256Hasher()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 997)
        var remaining = 1_000_000
        while remaining > 0 {
            let count = min(remaining, chunk.count)
            hasher.update(Array(chunk[0..<count]))
            remaining -= count
        }
        #expect(hasher.finalize().hexString == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("streaming in any split equals one shot", arguments: [1, 3, 55, 56, 63, 64, 65, 127, 128, 1000])
    func streamingSplits(split: Int) {
        let message = (0..<1500).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var hasher = SHA256Hasher()
        var index = 0
        while index < message.count {
            let end = min(message.count, index + split)
            hasher.update(Array(message[index..<end]))
            index = end
        }
        #expect(hasher.finalize() == SHA256Hasher.hash(message))
    }

    @Test("padding boundaries (55, 56, 64 bytes) differ and are stable", arguments: [55, 56, 57, 63, 64, 119, 120])
    func paddingBoundaries(length: Int) {
        let message = [UInt8](repeating: 0x61, count: length)
        var split = SHA256Hasher()
        split.update(Array(message.prefix(length / 2)))
        split.update(Array(message.dropFirst(length / 2)))
        #expect(split.finalize() == SHA256Hasher.hash(message))
        #expect(SHA256Hasher.hash(message) != SHA256Hasher.hash(message + [0x61]))
    }
}
