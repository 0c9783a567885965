/// What a ``SignedDownloadResolver`` decided about a link.
public enum SignedDownloadVerdict: Hashable, Sendable {
    /// The link is genuine and unexpired: serve this blob, saved under this file name.
    case valid(key: BlobKey, filename: String)
    /// The link was altered, forged or is not a link of this store.
    case badSignature
    /// The link is genuine but its time is up.
    case expired
}
