/// What a ``SignedDownloadResolver`` decided about a link.
///
/// A struct with static members rather than an enum, so later kinds of verdict do not break a host's
/// `switch`: test ``kind`` and read ``key`` and ``filename`` of a valid link.
public struct SignedDownloadVerdict: Hashable, Sendable {
    /// The kind of verdict.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        /// The stable name, such as `valid`.
        public let rawValue: String
        /// The link is genuine and unexpired.
        public static let valid = Kind(rawValue: "valid")
        /// The link was altered, forged or is not a link of this store.
        public static let badSignature = Kind(rawValue: "badSignature")
        /// The link is genuine but its time is up.
        public static let expired = Kind(rawValue: "expired")

        /// The stable name.
        public var description: String { rawValue }
    }

    /// The kind of verdict.
    public let kind: Kind
    /// The blob to serve, for a valid link.
    public let key: BlobKey?
    /// The file name to save it as, for a valid link.
    public let filename: String?

    /// The link is genuine and unexpired: serve this blob, saved under this file name.
    ///
    /// - Parameters:
    ///   - key: The blob.
    ///   - filename: The file name.
    /// - Returns: The verdict.
    public static func valid(key: BlobKey, filename: String) -> SignedDownloadVerdict {
        SignedDownloadVerdict(kind: .valid, key: key, filename: filename)
    }

    /// The link was altered, forged or is not a link of this store.
    public static let badSignature = SignedDownloadVerdict(kind: .badSignature, key: nil, filename: nil)
    /// The link is genuine but its time is up.
    public static let expired = SignedDownloadVerdict(kind: .expired, key: nil, filename: nil)
}
