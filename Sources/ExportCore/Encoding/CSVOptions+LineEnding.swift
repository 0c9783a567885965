extension CSVOptions {
    /// How records end: ``crlf`` or ``lf``.
    ///
    /// A struct with static members rather than an enum, so an ending can be added without breaking
    /// callers that switch over the existing ones. Encoded in JSON as its ``rawValue`` (`"crlf"`,
    /// `"lf"`), as the enum it replaces was.
    public struct LineEnding: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        /// The ending's name: `crlf` or `lf`.
        public let rawValue: String

        /// The ending with this name.
        ///
        /// - Parameters:
        ///   - rawValue: `crlf` or `lf`.
        /// - Returns: `nil` for any other name.
        public init?(rawValue: String) {
            guard Self.known.contains(rawValue) else { return nil }
            self.rawValue = rawValue
        }

        private init(known rawValue: String) {
            self.rawValue = rawValue
        }

        private static let known: Set<String> = ["crlf", "lf"]

        /// `\r\n`, as RFC 4180 says.
        public static let crlf = LineEnding(known: "crlf")
        /// `\n`.
        public static let lf = LineEnding(known: "lf")

        /// The ending's name.
        public var description: String { rawValue }

        /// Decodes the name, as a single string.
        ///
        /// - Parameters:
        ///   - decoder: The decoder.
        /// - Throws: `DecodingError.dataCorrupted` for an unknown name.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let name = try container.decode(String.self)
            guard let value = Self(rawValue: name) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown CSV line ending \(String(reflecting: name))")
            }
            self = value
        }

        /// Encodes the name, as a single string.
        ///
        /// - Parameters:
        ///   - encoder: The encoder.
        /// - Throws: What the encoder throws.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }
}
