// Stand-ins for the names hosts import next to MembershipExport: HTTPTypes' HTTPRequest and
// HTTPResponse (re-exported by Hummingbird), and CryptoKit's / swift-crypto's SHA256 and HMAC.
// NameClashTests imports this module beside every library module and uses these names unqualified:
// any public type of ours with one of these names makes that file ambiguous and the build fails.

/// A host framework's request type.
public struct HTTPRequest: Sendable { public init() {} }
/// A host framework's response type.
public struct HTTPResponse: Sendable { public init() {} }
/// A crypto package's hash function.
public enum SHA256 { public static let name = "host SHA256" }
/// A crypto package's MAC.
public struct HMAC: Sendable { public init() {} }
/// A host's own error type, as many frameworks have.
public struct HTTPError: Error { public init() {} }
