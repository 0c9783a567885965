import ExportCore
import Foundation

/// The parsed form of an AWS shared credentials or config file: sections of `key = value` lines.
///
/// The parser is total: any bytes give either sections or an `ExportError.Code.configuration` that
/// names the file and the line, never a crash. Errors never quote the line, which may hold a secret.
///
/// What it accepts, as the AWS SDKs do:
/// - `[name]` section headers (in the config file `[profile name]`, and `[default]`), with
///   whitespace and a `#` or `;` comment allowed after the `]`;
/// - `key = value` properties (keys lower-cased, values trimmed, the last of duplicates wins);
/// - indented continuation lines after a property (sub-properties such as `s3 =` settings), kept
///   out of the value;
/// - blank lines and full-line comments starting with `#` or `;`.
struct AWSProfileFile: Sendable, Equatable {
    /// Which of the two files, which decides how section names map to profiles.
    enum Kind: Sendable {
        /// `~/.aws/credentials`: `[name]` is profile `name`.
        case credentials
        /// `~/.aws/config`: `[profile name]` is profile `name`, and `[default]` is `default`.
        case config
    }

    /// Every profile's properties, by profile name.
    var profiles: [String: [String: String]]

    /// Parses a file's contents.
    ///
    /// - Parameters:
    ///   - bytes: The contents (invalid UTF-8 is replaced, never fatal).
    ///   - kind: Which file it is.
    ///   - path: The file's path, for errors.
    /// - Returns: The profiles.
    /// - Throws: `ExportError.Code.configuration` naming `path` and the line of the first malformed line.
    static func parse(_ bytes: [UInt8], kind: Kind, path: String) throws(ExportError) -> AWSProfileFile {
        var profiles: [String: [String: String]] = [:]
        var section: String?
        var skipSection = false
        var lastKey: String?
        let text = String(decoding: bytes, as: UTF8.self)
        var number = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            func failure(_ reason: String) -> ExportError {
                ExportError(.configuration, "\(path) line \(number): \(reason)")
            }
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if let first = line.first, first == " " || first == "\t" {
                guard section != nil, lastKey != nil else {
                    throw failure("an indented line continues no property")
                }
                continue
            }
            if trimmed.hasPrefix("[") {
                guard let close = trimmed.firstIndex(of: "]") else { throw failure("a section header needs a closing ]") }
                let rest = trimmed[trimmed.index(after: close)...].trimmingCharacters(in: .whitespaces)
                guard rest.isEmpty || rest.hasPrefix("#") || rest.hasPrefix(";") else {
                    throw failure("only a comment may follow a section header")
                }
                let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty else { throw failure("a section needs a name") }
                lastKey = nil
                if let profile = profileName(section: name, kind: kind) {
                    guard !profile.isEmpty, !profile.contains(where: \.isWhitespace) else {
                        throw failure("a profile name cannot be empty or contain spaces")
                    }
                    section = profile
                    skipSection = false
                    if profiles[profile] == nil { profiles[profile] = [:] }
                } else {
                    // `[sso-session x]`, `[services x]` or a config section without `profile `: not a profile.
                    section = name
                    skipSection = true
                }
                continue
            }
            guard section != nil else { throw failure("a property must follow a [section] header") }
            guard let equals = trimmed.firstIndex(of: "=") else { throw failure("expected key = value") }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            guard !key.isEmpty else { throw failure("a property needs a name before =") }
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            lastKey = key
            if !skipSection, let section { profiles[section, default: [:]][key] = value }
        }
        return AWSProfileFile(profiles: profiles)
    }

    /// The profile a section header names, or `nil` for a section that is not a profile.
    static func profileName(section: String, kind: Kind) -> String? {
        switch kind {
        case .credentials:
            return section
        case .config:
            if section == "default" { return "default" }
            guard section.hasPrefix("profile") else { return nil }
            let rest = section.dropFirst("profile".count)
            guard let first = rest.first, first == " " || first == "\t" else { return nil }
            return rest.trimmingCharacters(in: .whitespaces)
        }
    }
}
