import ExportCore
import Foundation
import Testing

/// Every implementation this CPU runs; each test runs on each, so the portable and the hardware
/// paths both meet the vectors.
private let implementations = SHA256Hasher.Implementation.allCases.filter(\.isAvailable)

private func hasher(_ implementation: SHA256Hasher.Implementation) -> SHA256Hasher {
    SHA256Hasher(implementation: implementation)!
}

private func hash(_ message: [UInt8], _ implementation: SHA256Hasher.Implementation) -> SHA256Hasher.Digest {
    var hasher = hasher(implementation)
    hasher.update(message)
    return hasher.finalize()
}

/// SHA-256 against the NIST examples.
///
/// Source: NIST FIPS 180-4 example values ("Cryptographic Standards and Guidelines: Examples with
/// Intermediate Values", SHA256.pdf and SHA2_Additional), and the NIST CAVP "one million a" long message.
@Suite("SHA-256 (NIST vectors)")
struct SHA256HasherTests {
    @Test(
        "one-shot digests",
        arguments: implementations, [
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
    func digest(implementation: SHA256Hasher.Implementation, vector: (message: String, expected: String)) {
        #expect(hash(Array(vector.message.utf8), implementation).hexString == vector.expected)
    }

    @Test("one million 'a', fed in uneven chunks", arguments: implementations)
    func millionA(implementation: SHA256Hasher.Implementation) {
        var hasher = hasher(implementation)
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 997)
        var remaining = 1_000_000
        while remaining > 0 {
            let count = min(remaining, chunk.count)
            hasher.update(Array(chunk[0..<count]))
            remaining -= count
        }
        #expect(hasher.finalize().hexString == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("streaming in any split equals one shot", arguments: implementations, [1, 3, 55, 56, 63, 64, 65, 127, 128, 1000])
    func streamingSplits(implementation: SHA256Hasher.Implementation, split: Int) {
        let message = (0..<1500).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var hasher = hasher(implementation)
        var index = 0
        while index < message.count {
            let end = min(message.count, index + split)
            hasher.update(Array(message[index..<end]))
            index = end
        }
        #expect(hasher.finalize() == hash(message, implementation))
    }

    @Test("padding boundaries (55, 56, 64 bytes) differ and are stable", arguments: implementations, [55, 56, 57, 63, 64, 119, 120])
    func paddingBoundaries(implementation: SHA256Hasher.Implementation, length: Int) {
        let message = [UInt8](repeating: 0x61, count: length)
        var split = hasher(implementation)
        split.update(Array(message.prefix(length / 2)))
        split.update(Array(message.dropFirst(length / 2)))
        #expect(split.finalize() == hash(message, implementation))
        #expect(hash(message, implementation) != hash(message + [0x61], implementation))
    }

    @Test("the implementations agree on many lengths and many blocks in one call")
    func implementationsAgree() {
        let message = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 7) }
        for length in [0, 1, 63, 64, 65, 640, 4_097, 20_000] {
            let digests = Set(implementations.map { hash(Array(message.prefix(length)), $0) })
            #expect(digests.count == 1, "length \(length)")
        }
    }

    @Test("the CPU check finds SHA instructions the kernel reports, and the default uses them")
    func cpuCheck() throws {
        #expect(SHA256Hasher().implementation == SHA256Hasher.Implementation.preferred)
        #expect(SHA256Hasher.Implementation.portable.isAvailable)
        #if os(Linux) && (arch(x86_64) || arch(arm64))
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(cpuinfo.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
        let reported = flags.contains("sha_ni") || flags.contains("sha2")
        #expect(SHA256Hasher.Implementation.hardware.isAvailable == reported)
        #expect(SHA256Hasher.Implementation.preferred == (reported ? .hardware : .portable))
        #endif
    }
}
