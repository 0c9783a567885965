import Foundation
import NIOSSL
import PostgresNIO

/// `postgres://user:password@host:port/database?sslmode=…&sslrootcert=…` as postgres-nio's client
/// configuration, with libpq's meaning of `sslmode`:
///
/// | `sslmode` | TLS | the server's certificate |
/// |-----------|-----|--------------------------|
/// | `disable` (the default here) | never | — |
/// | `prefer` | when the server offers it | not checked |
/// | `require` | always | not checked |
/// | `verify-ca` | always | signed by a trusted root (`sslrootcert`, else the system's) |
/// | `verify-full` | always | as `verify-ca`, and issued for the host name |
///
/// The default is `disable` (libpq's is `prefer`) so a URL without `sslmode` behaves the same against
/// every server; production URLs should say `verify-full`.
public enum PostgresURL {
    /// A URL that cannot be used, and why.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses a database URL.
    ///
    /// - Parameters:
    ///   - text: The URL.
    /// - Returns: The client's configuration.
    /// - Throws: ``Invalid`` when the URL is not a usable `postgres://` URL.
    public static func configuration(_ text: String) throws(Invalid) -> PostgresClient.Configuration {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? ""), let host = url.host, !host.isEmpty,
            let user = url.user, !user.isEmpty
        else {
            throw Invalid(description: "a database URL must look like postgres://user:password@host:5432/database[?sslmode=verify-full]")
        }
        var query: [String: String] = [:]
        for item in url.queryItems ?? [] {
            guard ["sslmode", "sslrootcert"].contains(item.name), let value = item.value, query[item.name] == nil else {
                throw Invalid(description: "a database URL takes sslmode and sslrootcert, once each (found \(item.name))")
            }
            query[item.name] = value
        }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        return PostgresClient.Configuration(
            host: host, port: url.port ?? 5432, username: user, password: url.password?.removingPercentEncoding ?? url.password,
            database: database.isEmpty ? user : database, tls: try tls(mode: query["sslmode"] ?? "disable", rootCertificate: query["sslrootcert"]))
    }

    static func tls(mode: String, rootCertificate: String?) throws(Invalid) -> PostgresClient.Configuration.TLS {
        var settings = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate {
            guard FileManager.default.isReadableFile(atPath: rootCertificate) else {
                throw Invalid(description: "sslrootcert \(rootCertificate) is not a readable file")
            }
            settings.trustRoots = .file(rootCertificate)
        }
        switch mode {
        case "disable":
            return .disable
        case "prefer", "require":
            settings.certificateVerification = .none
            return mode == "prefer" ? .prefer(settings) : .require(settings)
        case "verify-ca":
            settings.certificateVerification = .noHostnameVerification
            return .require(settings)
        case "verify-full":
            settings.certificateVerification = .fullVerification
            return .require(settings)
        default:
            throw Invalid(description: "sslmode must be disable, prefer, require, verify-ca or verify-full (found \(mode))")
        }
    }
}
