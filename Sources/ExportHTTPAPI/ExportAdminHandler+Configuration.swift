extension ExportAdminHandler {
    /// Where the admin routes are mounted and their limits.
    public struct Configuration: Sendable {
        /// The path the routes are relative to, `/admin` by default; normalised (a leading `/`, no
        /// trailing one). Mount it apart from the user API's base path.
        public var basePath: String
        /// The largest body of `POST /workers/pause` and `POST /workers/resume`; 4 KiB by default.
        public var maxBodyBytes: Int
        /// The page size of `GET /jobs` and `GET /dead-letters` when the query names none; 50 by default.
        public var defaultPageSize: Int
        /// The largest page size a client may ask for; 100 by default.
        public var maxPageSize: Int
        /// The URI prefix of the problem `type` members; each problem appends its slug.
        public var problemTypeBase: String

        /// Creates a configuration; every parameter has the default its property documents.
        public init(
            basePath: String = "/admin",
            maxBodyBytes: Int = 4096,
            defaultPageSize: Int = 50,
            maxPageSize: Int = 100,
            problemTypeBase: String = "https://membership-export.dev/problems/"
        ) {
            self.basePath = ExportAPIHandler.Configuration.normalized(basePath)
            self.maxBodyBytes = max(0, maxBodyBytes)
            self.maxPageSize = max(1, maxPageSize)
            self.defaultPageSize = min(max(1, defaultPageSize), max(1, maxPageSize))
            self.problemTypeBase = problemTypeBase
        }
    }
}
