import ExportCore

/// The demo's made-up recipient of a user's export: `<owner>@example.com`.
///
/// User ids from an `--input` file may hold anything (spaces, non-ASCII, `@`), which no e-mail local
/// part accepts, and a request with an invalid recipient would abort the whole run. An id made only of
/// `A-Z a-z 0-9 - _` (at most 64 bytes) is used as is; any other becomes `user-<first 16 hex digits of
/// its SHA-256>`, stable across runs so a resumed run finds the same jobs.
enum DemoRecipient {
    static func address(for owner: UserID) -> EmailAddress {
        let id = owner.rawValue
        let plain = id.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        let local = plain && (1...64).contains(id.utf8.count) ? id : "user-" + SHA256Hasher.hash(Array(id.utf8)).hexString.prefix(16)
        // Only letters, digits, '-' and '_' before a fixed domain: always a valid address.
        return EmailAddress(local + "@example.com") ?? EmailAddress("user@example.com")!
    }
}
