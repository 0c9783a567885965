import ExportPostgres
import Foundation
import PostgresNIO
import PostgresNIOPort
import Testing

/// `--database-url …?sslmode=`: libpq's modes against a server that offers TLS with a self-signed certificate.
@Suite("Postgres TLS from the database URL")
struct TLSTests {
    /// Whether the connection that ran the query is encrypted, as the server sees it.
    static func encrypted(_ url: String) async throws -> String? {
        var configuration = try PostgresURL.configuration(url)
        configuration.options.connectTimeout = .seconds(10)
        let client = PostgresClient(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let rows = try await PostgresNIODatabase(client: client).execute(
                .init("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
            return rows.first?[0]
        }
    }

    @Test("disable is plain text; require and verify-full with the server's root are encrypted; verify-full without it is refused")
    func modes() async throws {
        guard let server = try await TestPostgres.server() else { return }
        let base = server.url(database: "postgres")
        #expect(try await Self.encrypted(base) == "false")
        #expect(try await Self.encrypted(base + "?sslmode=disable") == "false")
        #expect(try await Self.encrypted(base + "?sslmode=prefer") == "true")
        #expect(try await Self.encrypted(base + "?sslmode=require") == "true")
        #expect(try await Self.encrypted(base + "?sslmode=verify-ca&sslrootcert=\(server.rootCertificate)") == "true")
        #expect(try await Self.encrypted(base + "?sslmode=verify-full&sslrootcert=\(server.rootCertificate)") == "true")
        // The self-signed certificate is in no system trust store: verification must fail, not fall back.
        // The pool retries a failed connection until its lease times out (about a minute), so the test
        // gives it 10 seconds: an error or no connection by then both mean refused.
        let untrusted = base + "?sslmode=verify-full"
        let outcome = await withTaskGroup(of: String.self) { group in
            group.addTask {
                do { return "connected, ssl \(try await Self.encrypted(untrusted) ?? "?")" } catch { return "refused" }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return "refused"
            }
            defer { group.cancelAll() }
            return await group.next() ?? "?"
        }
        #expect(outcome == "refused")
    }

    @Test("bad URLs are refused with a reason before any connection")
    func badURLs() throws {
        for url in [
            "mysql://u:p@127.0.0.1/db", "postgres://127.0.0.1/db", "postgres://u:p@127.0.0.1/db?sslmode=always",
            "postgres://u:p@127.0.0.1/db?sslmode=require&sslmode=disable", "postgres://u:p@127.0.0.1/db?application_name=x",
            "postgres://u:p@127.0.0.1/db?sslmode=verify-full&sslrootcert=/nonexistent/root.crt",
        ] {
            #expect(throws: PostgresURL.Invalid.self, "\(url)") { try PostgresURL.configuration(url) }
        }
        let parsed = try PostgresURL.configuration("postgresql://app:p%40ss@db.internal:6543/exports?sslmode=verify-full")
        #expect(parsed.host == "db.internal")
        #expect(parsed.port == 6543)
        #expect(parsed.password == "p@ss")
        #expect(parsed.database == "exports")
    }
}
