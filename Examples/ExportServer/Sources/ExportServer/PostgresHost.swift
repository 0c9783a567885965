import ExportCore
import ExportPostgres
import Foundation
import Logging
import PostgresNIO
import PostgresNIOPort

/// `--backend postgres`: the client from `--database-url`, the demo's `memberships` table (created and
/// seeded when empty) and the demo's e-mail outbox table.
enum PostgresHost {
    /// Parses `postgres://user:password@host:port/database?sslmode=…` into the client's configuration.
    static func configuration(url text: String) throws -> PostgresClient.Configuration {
        do { return try PostgresURL.configuration(text) } catch { throw ServerError("--database-url: \(error)") }
    }

    /// Creates the demo's `memberships` table and, when it is empty, seeds `rows` memberships per user in
    /// one statement (the same columns `SQLMembershipSource.Mapping()` reads by default).
    static func seedMemberships(users: [String], rows: Int, on database: some ExportSQLDatabase) async throws {
        try await database.withTransaction { transaction in
            _ = try await transaction.execute(.init("SELECT pg_advisory_xact_lock(hashtext('export-server:seed'))::text"))
            _ = try await transaction.execute(
                .init(
                    """
                    CREATE TABLE IF NOT EXISTS memberships (
                        membership_id text NOT NULL, user_id text NOT NULL, organization_id text NOT NULL, organization_name text NOT NULL,
                        plan text NOT NULL, role text NOT NULL, status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz,
                        renews_at timestamptz, amount numeric, currency text, seat_count integer, cost_center text,
                        PRIMARY KEY (user_id, membership_id))
                    """))
            let existing = try await transaction.execute(.init("SELECT count(*)::text FROM (SELECT 1 FROM memberships LIMIT 1) AS any_row"))
            guard existing.first?[0] == "0", rows > 0 else { return }
            _ = try await transaction.execute(
                .init(
                    """
                    INSERT INTO memberships
                    SELECT 'm-' || lpad(n::text, 7, '0'), u, 'org-' || (n % 5000), (ARRAY['Acme, Inc.', 'Globex', 'Initech', 'Umbrella "Labs"',
                        '=cmd|'' /C calc''!A0', 'Société Générale', '北京 Tech', 'Hooli'])[1 + n % 8],
                        (ARRAY['free', 'pro', 'team', 'enterprise'])[1 + n % 4], (ARRAY['member', 'admin', 'owner', 'billing', 'guest'])[1 + n % 5],
                        (ARRAY['active', 'active', 'active', 'cancelled', 'past_due'])[1 + n % 5],
                        to_timestamp(1500000000 + (n * 7919) % 250000000), NULL, to_timestamp(1531536000 + (n * 7919) % 250000000),
                        CASE WHEN n % 3 = 0 THEN NULL ELSE round(((n * 37) % 100000) / 100.0, 2) END, CASE WHEN n % 3 = 0 THEN NULL ELSE 'EUR' END,
                        1 + n % 50, 'CC-' || (10 + n % 90)
                    FROM unnest(string_to_array($1, ',')) AS u, generate_series(0, $2::integer - 1) AS n
                    """, [users.joined(separator: ","), String(rows)]))
        }
    }

    /// The demo's columns for `SQLMembershipSource`: the defaults plus the two host attributes.
    static let mapping = SQLMembershipSource.Mapping(attributes: ["seat_count": "seat_count", "cost_center": "cost_center"])
}

/// The demo's e-mail channel on Postgres: each "sent" e-mail is a row of `demo_outbox`, written in the
/// same transaction as its ledger entry, so a process killed at any instant has sent it once or not at
/// all (the outbox has no unique key: counting its rows per key checks exactly-once).
struct PostgresOutboxNotifier: Notifier {
    let database: any ExportSQLDatabase
    let schema: PostgresSchema
    let clock: any ExportClock

    static func createTable(on database: some ExportSQLExecutor) async throws {
        _ = try await database.execute(
            .init(
                """
                CREATE TABLE IF NOT EXISTS demo_outbox (
                    id bigserial PRIMARY KEY, idempotency_key text NOT NULL, job_id text NOT NULL, recipient text NOT NULL,
                    subject text NOT NULL, body text NOT NULL, sent_at timestamptz NOT NULL DEFAULT now())
                """))
    }

    func send(_ notification: ExportNotification) async throws {
        try await database.withTransaction { transaction in
            let ledger = PostgresNotificationLedger(executor: transaction, schema: schema)
            // A concurrent sender of the same key waits on the row lock, then sees it sent.
            guard try await ledger.reserveKey(notification.idempotencyKey, now: clock.now(), holdFor: .seconds(3600)) == .reserved else { return }
            let (subject, body): (String, String) =
                switch notification.content {
                case .ready(let details): ("Your export is ready", "Download (\(details.rows) rows) until \(details.expiresAt): \(details.link)")
                case .failed(let reason): ("Your export failed", reason)
                }
            _ = try await transaction.execute(
                .init(
                    "INSERT INTO demo_outbox (idempotency_key, job_id, recipient, subject, body) VALUES ($1, $2, $3, $4, $5)",
                    [notification.idempotencyKey, notification.jobID.rawValue, notification.recipient.rawValue, subject, body]))
            try await ledger.markSent(notification.idempotencyKey, at: clock.now())
        }
    }
}

/// The SQL source, paced like the generated demo source (so progress can be watched), with the demo's
/// broken users.
struct PacedMembershipSource: MembershipSource {
    let base: any MembershipSource
    let pageDelay: Duration
    let brokenUsers: Set<String>

    func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        if pageDelay > .zero { try await Task.sleep(for: pageDelay) }
        if brokenUsers.contains(owner.rawValue) {
            throw ExportError(.corruptData, "membership table row for \(owner.rawValue) fails its integrity check (demo --broken-users)")
        }
        return try await base.memberships(of: owner, after: cursor, limit: limit)
    }
}
