/// A value known by a stable name from a fixed list (``CatchUpPolicy``, ``ScheduleWindow``): looked up
/// by name and coded as the bare name, an unknown name a decoding error.
protocol NamedValue: Equatable {
    /// Every value.
    static var all: [Self] { get }
    /// What the value is, for error messages (`catch-up policy`).
    static var kind: String { get }
    /// The stable name.
    var name: String { get }
}

extension NamedValue {
    /// The value with this name, or `nil`.
    static func named(_ name: String) -> Self? { all.first { $0.name == name } }

    /// Decodes a bare name, refusing unknown ones.
    static func decodeName(from decoder: any Decoder) throws -> Self {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let value = named(name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown \(kind) \(name.prefix(40))")
        }
        return value
    }

    /// Encodes the bare name.
    func encodeName(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
