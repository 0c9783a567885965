import ExportCore
import Foundation
import Testing

/// A hash continued from a snapshot (after a JSON round trip, as a checkpoint stores it) gives the
/// digest of the whole message, on every code path and at every split point around the block size.
@Suite("SHA-256 snapshots")
struct SHA256SnapshotTests {
    static let message: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }

    @Test("continued at every split from 0 to 300 bytes, the digest is the one-shot digest", arguments: SHA256Hasher.Implementation.allCases)
    func everySplit(_ implementation: SHA256Hasher.Implementation) throws {
        guard implementation.isAvailable else { return }
        let expected = SHA256Hasher.hash(Self.message)
        for split in 0...Self.message.count {
            var first = try #require(SHA256Hasher(implementation: implementation))
            first.update(Array(Self.message[..<split]))
            let stored = try JSONEncoder().encode(first.snapshot)
            let snapshot = try JSONDecoder().decode(SHA256Hasher.Snapshot.self, from: stored)
            var second = try #require(SHA256Hasher(resuming: snapshot, implementation: implementation), "split \(split)")
            second.update(Array(Self.message[split...]))
            #expect(second.finalize() == expected, "split at \(split)")
        }
    }

    @Test("the NIST \"abc\" vector, split after one byte")
    func nistVector() throws {
        var first = SHA256Hasher()
        first.update("a")
        var second = try #require(SHA256Hasher(resuming: first.snapshot))
        second.update("bc")
        #expect(second.finalize().hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("a snapshot no hasher can have made is refused, never trusted")
    func corrupt() {
        var hasher = SHA256Hasher()
        hasher.update(Array(Self.message[..<70]))
        let good = hasher.snapshot
        var bad: [SHA256Hasher.Snapshot] = []
        bad.append(.init(state: String(good.state.dropLast()), pending: good.pending, length: good.length))  // 63 digits
        bad.append(.init(state: "zz" + good.state.dropFirst(2), pending: good.pending, length: good.length))  // not hex
        bad.append(.init(state: good.state, pending: good.pending, length: good.length + 1))  // pending does not match the length
        bad.append(.init(state: good.state, pending: String(repeating: "00", count: 64), length: 64))  // a whole block pending
        bad.append(.init(state: good.state, pending: "0", length: good.length))  // odd hex
        for snapshot in bad { #expect(SHA256Hasher(resuming: snapshot) == nil, "\(snapshot)") }
        #expect(SHA256Hasher(resuming: good) != nil)
    }
}
