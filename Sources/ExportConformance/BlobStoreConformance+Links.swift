import ExportCore
import Foundation

extension BlobStoreConformance {
    func downloadLink() async throws {
        let store = try await makeStore()
        let token = runToken()
        let first = try key("linked-1.csv", token: token)
        let second = try key("linked-2.csv", token: token)
        _ = try await write(store, first, [1, 2, 3], partSize: 1)
        _ = try await write(store, second, [4, 5], partSize: 1)
        let lifetime = configuration.linkLifetime
        let before = now()
        let link = try await store.downloadLink(for: first, filename: "memberships.csv", expiresIn: lifetime)
        let after = now()
        let tolerance = Self.seconds(configuration.linkTolerance)
        try check(
            link.expiresAt >= before.addingTimeInterval(Self.seconds(lifetime) - tolerance)
                && link.expiresAt <= after.addingTimeInterval(Self.seconds(lifetime) + tolerance),
            "a link asked to live \(lifetime) expires at \(link.expiresAt) (asked at \(before))"
        )
        let other = try await store.downloadLink(for: second, filename: "memberships.csv", expiresIn: lifetime)
        try check(link.url != other.url, "two blobs got the same download link")

        if let fetch {
            let fetched = try await fetch(link.url)
            try check(fetched == [1, 2, 3], "a fresh link downloaded \(fetched.count) bytes that differ from the blob")
            let original = link.url.absoluteString
            let altered = original.replacingOccurrences(of: "linked-1.csv", with: "linked-2.csv")
            if altered != original, let alteredURL = URL(string: altered) {
                let stolen = try? await fetch(alteredURL)
                try check(stolen == nil, "a link altered to name another key downloaded that key's blob")
            }
            if let advance {
                try await advance(lifetime + configuration.linkTolerance)
                let late = try? await fetch(link.url)
                try check(late == nil, "a link still worked after it expired")
            }
        }
        try await store.delete(first)
        try await store.delete(second)
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
