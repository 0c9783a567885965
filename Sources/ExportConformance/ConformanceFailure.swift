/// A broken port contract, reported by a conformance suite.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// What the adapter did wrong.
    public let description: String
    /// Where in the suite the check failed.
    public let location: String

    /// Creates a failure.
    ///
    /// - Parameters:
    ///   - description: What the adapter did wrong.
    ///   - location: Where in the suite the check failed.
    public init(_ description: String, location: String) {
        self.description = description
        self.location = location
    }
}
