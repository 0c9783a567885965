extension ExportAPIHandler {
    /// Where the handler is mounted and how much it accepts.
    public struct Configuration: Sendable {
        /// The path prefix every route lives under, such as `/api/v1`; empty for the root.
        /// A missing leading slash is added and a trailing slash is ignored.
        public var basePath: String
        /// The path (under ``basePath``) of the signed-download route, `/downloads` by default; normalised
        /// like ``basePath``. With ``SignedDownloads`` it must not be empty (nor `/`) nor lie under
        /// `/exports`: ``ExportAPIHandler/init(service:recipient:signedDownloads:configuration:)``
        /// throws then.
        public var downloadPath: String
        /// The largest `POST /exports` body accepted; bigger bodies get 413 (the other routes take no body
        /// and ignore one). 16 KiB by default.
        public var maxBodyBytes: Int
        /// The page size of `GET /exports` when the query names none; 20 by default.
        public var defaultPageSize: Int
        /// The largest page size a client may ask for; 100 by default.
        public var maxPageSize: Int
        /// How long the links minted by `GET /exports/{id}/download` work; 5 minutes by default.
        public var downloadLinkLifetime: Duration
        /// The URI prefix of the problem `type` members; each problem appends its slug.
        public var problemTypeBase: String

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - basePath: The mount prefix; empty by default.
        ///   - downloadPath: The signed-download route's path; `/downloads` by default.
        ///   - maxBodyBytes: The body size limit; 16 KiB by default.
        ///   - defaultPageSize: The default page size; 20.
        ///   - maxPageSize: The largest page size; 100.
        ///   - downloadLinkLifetime: The lifetime of minted links; 5 minutes.
        ///   - problemTypeBase: The problem type URI prefix.
        public init(
            basePath: String = "",
            downloadPath: String = "/downloads",
            maxBodyBytes: Int = 16 * 1024,
            defaultPageSize: Int = 20,
            maxPageSize: Int = 100,
            downloadLinkLifetime: Duration = .seconds(300),
            problemTypeBase: String = "https://membership-export.dev/problems/"
        ) {
            self.basePath = Self.normalized(basePath)
            self.downloadPath = Self.normalized(downloadPath)
            self.maxBodyBytes = max(0, maxBodyBytes)
            self.maxPageSize = max(1, maxPageSize)
            self.defaultPageSize = min(max(1, defaultPageSize), max(1, maxPageSize))
            self.downloadLinkLifetime = downloadLinkLifetime
            self.problemTypeBase = problemTypeBase
        }

        static func normalized(_ path: String) -> String {
            var path = Substring(path)
            while path.hasSuffix("/") { path = path.dropLast() }
            guard !path.isEmpty else { return "" }
            return path.hasPrefix("/") ? String(path) : "/" + path
        }
    }
}
