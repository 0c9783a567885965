import ExportCore
import Foundation

/// DEMO SIGN-IN, the stand-in for the host's own authentication (sessions, OAuth, an identity proxy):
/// HTTP Basic against the `--users` list. Replace this type with yours; the export routes only need the
/// authenticated user it returns.
///
/// The principal comes from here only, never from the request's path, query or body.
struct DemoAuthentication: Sendable {
    /// User name to password.
    let users: [String: String]

    /// Parses `--users alice:demo,bob:demo`.
    ///
    /// - Throws: ``ServerError`` for an entry without a `:`, an empty name or password, or a name twice.
    init(parsing list: String) throws {
        var users: [String: String] = [:]
        for entry in list.split(separator: ",", omittingEmptySubsequences: true) {
            guard let colon = entry.firstIndex(of: ":") else { throw ServerError("--users entry \"\(entry)\" needs name:password") }
            let name = String(entry[..<colon]).trimmingCharacters(in: .whitespaces)
            let password = String(entry[entry.index(after: colon)...])
            guard !name.isEmpty, !password.isEmpty else { throw ServerError("--users entry \"\(entry)\" needs a name and a password") }
            guard UserID.isValid(name) else { throw ServerError("--users name \"\(name)\" may use only A-Z a-z 0-9 . _ -") }
            guard users.updateValue(password, forKey: name) == nil else { throw ServerError("--users names \(name) twice") }
        }
        guard !users.isEmpty else { throw ServerError("--users names no user") }
        self.users = users
    }

    /// The user an `Authorization: Basic …` header field signs in, or `nil` (no header, another scheme,
    /// bad base64, unknown user or wrong password: all are simply "not signed in", answered 401).
    func user(authorization: String?) -> UserID? {
        guard let authorization else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        else { return nil }
        let name = String(pair[..<colon])
        let password = String(pair[pair.index(after: colon)...])
        guard let expected = users[name], Self.constantTimeEqual(expected, password) else { return nil }
        return UserID(name)
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension UserID {
    /// Whether a demo user name is a plain identifier (it becomes part of an e-mail address).
    static func isValid(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }
}
