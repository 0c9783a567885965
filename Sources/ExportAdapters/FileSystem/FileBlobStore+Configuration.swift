import ExportCore
import Foundation

extension FileBlobStore {
    /// Where a ``FileBlobStore`` keeps its files and how it signs download links.
    public struct Configuration: Sendable {
        /// The root directory; blobs live in `blobs/`, content types in `meta/`, writes in progress in `tmp/`.
        public var directory: URL
        /// The URL the host serves downloads under; a link is `<base>/<key>?expires=…&filename=…&signature=…`.
        public var linkBaseURL: URL
        /// The HMAC-SHA256 secret that signs links (at least 16 bytes; 32 random bytes recommended).
        public var linkSecret: [UInt8]
        /// The longest lifetime a link may have.
        public var maximumLinkLifetime: Duration
        /// The size of the chunks ``FileBlobStore/read(_:)`` yields.
        public var readChunkSize: Int
        /// What a finished file survives: with ``FileDurability/powerLoss`` (the default) it is
        /// fsynced before it is renamed into place and its directory after.
        public var durability: FileDurability

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - directory: The root directory.
        ///   - linkSecret: The secret that signs download links.
        ///   - linkBaseURL: The public URL of the host's download route, such as `https://app.example.com/api/v1/downloads` (no default: a library never guesses a public URL).
        ///   - maximumLinkLifetime: The longest link lifetime; 7 days by default.
        ///   - readChunkSize: The read chunk size; 64 KiB by default.
        ///   - durability: What a finished file survives; ``FileDurability/powerLoss`` by default.
        public init(
            directory: URL,
            linkSecret: [UInt8],
            linkBaseURL: URL,
            maximumLinkLifetime: Duration = .seconds(7 * 24 * 3600),
            readChunkSize: Int = 65_536,
            durability: FileDurability = .powerLoss
        ) {
            self.directory = directory
            self.linkSecret = linkSecret
            self.linkBaseURL = linkBaseURL
            self.maximumLinkLifetime = maximumLinkLifetime
            self.readChunkSize = readChunkSize
            self.durability = durability
        }
    }
}
