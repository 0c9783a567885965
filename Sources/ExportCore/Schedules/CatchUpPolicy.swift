/// What a schedule does with occurrences that passed while no scheduler ran (downtime, a pause).
///
/// Encoded as its name (`runLatest`, `skip`).
public struct CatchUpPolicy: Hashable, Sendable, Codable, CustomStringConvertible, NamedValue {
    static let kind = "catch-up policy"

    /// The policy's stable name.
    public let name: String

    private init(name: String) { self.name = name }

    /// Run the latest missed occurrence once (never one per missed occurrence), then carry on.
    public static let runLatest = CatchUpPolicy(name: "runLatest")
    /// Run nothing that is late by more than the scheduler's ``ExportScheduler/Configuration/lateness``;
    /// wait for the next occurrence.
    public static let skip = CatchUpPolicy(name: "skip")

    /// Every policy.
    public static let all: [CatchUpPolicy] = [.runLatest, .skip]

    /// The policy with this name.
    ///
    /// - Parameters:
    ///   - name: `runLatest` or `skip`.
    public init?(named name: String) {
        guard let value = Self.named(name) else { return nil }
        self = value
    }

    /// The policy's name.
    public var description: String { name }

    /// Decodes a policy by name.
    ///
    /// - Parameters:
    ///   - decoder: The decoder.
    /// - Throws: A decoding error for an unknown name.
    public init(from decoder: any Decoder) throws {
        self = try Self.decodeName(from: decoder)
    }

    /// Encodes the name.
    ///
    /// - Parameters:
    ///   - encoder: The encoder.
    /// - Throws: The encoder's error.
    public func encode(to encoder: any Encoder) throws {
        try encodeName(to: encoder)
    }
}
