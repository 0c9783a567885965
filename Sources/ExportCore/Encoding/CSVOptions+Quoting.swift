extension CSVOptions {
    /// When fields are quoted: ``minimal`` or ``all``.
    ///
    /// A struct with static members rather than an enum, so a mode can be added without breaking
    /// callers that switch over the existing ones. Encoded in JSON as its ``rawValue`` (`"minimal"`,
    /// `"all"`), as the enum it replaces was.
    public struct Quoting: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        /// The mode's name: `minimal` or `all`.
        public let rawValue: String

        /// The mode with this name.
        ///
        /// - Parameters:
        ///   - rawValue: `minimal` or `all`.
        /// - Returns: `nil` for any other name.
        public init?(rawValue: String) {
            guard Self.known.contains(rawValue) else { return nil }
            self.rawValue = rawValue
        }

        private init(known rawValue: String) {
            self.rawValue = rawValue
        }

        private static let known: Set<String> = ["minimal", "all"]

        /// Only fields that need it: the delimiter, `"`, CR or LF inside, empty text, neutralised formulas.
        public static let minimal = Quoting(known: "minimal")
        /// Every field that has a value. A missing value stays an empty, unquoted field, except in a
        /// one-column file, where it is `""` (see ``CSVEncoder``).
        public static let all = Quoting(known: "all")

        /// The mode's name.
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
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown CSV quoting mode \(String(reflecting: name))")
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
