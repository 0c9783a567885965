import ExportCore

/// What the signed-download route needs: the verifier of the links and the store to stream the files
/// from. One value, so the route cannot be half-configured.
public struct SignedDownloads: Sendable {
    /// Verifies the links (a file-system blob store's, for example).
    public var resolver: any SignedDownloadResolver
    /// The store the granted blobs are streamed from.
    public var store: any BlobStore

    /// Pairs a verifier with the store it grants access to.
    ///
    /// - Parameters:
    ///   - resolver: The link verifier.
    ///   - store: The store to stream from.
    public init(resolver: any SignedDownloadResolver, store: any BlobStore) {
        self.resolver = resolver
        self.store = store
    }

    /// Uses a store that verifies its own links, such as `FileBlobStore`.
    ///
    /// - Parameters:
    ///   - store: The store.
    public init(_ store: some BlobStore & SignedDownloadResolver) {
        self.init(resolver: store, store: store)
    }
}
