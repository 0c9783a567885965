import ExportCore
import Foundation

/// A record of sent notifications in a PostgreSQL table, for channels without idempotency keys (SES,
/// webhooks, SMTP): the `NotificationLedger` of `ExportAWS`, shared by every worker on the database.
///
/// This module does not depend on `ExportAWS`, so a host that uses both declares the conformance,
/// mapping ``ReservationOutcome`` to `LedgerReservation` (the tests of `Examples/ExportServer` do):
///
/// ```swift
/// extension PostgresNotificationLedger: @retroactive NotificationLedger {
///     public func reserve(_ key: String, now: Date, holdFor: Duration) async throws -> LedgerReservation {
///         switch try await reserveKey(key, now: now, holdFor: holdFor) {
///         case .reserved: .reserved
///         case .alreadySent: .alreadySent
///         case .inProgress(let until): .inProgress(until: until)
///         }
///     }
/// }
/// ```
///
/// ``reserveKey(_:now:holdFor:)`` is one `INSERT … ON CONFLICT DO UPDATE … WHERE` statement: of concurrent
/// callers with one key, exactly one gets ``ReservationOutcome/reserved``. A lapsed reservation (its
/// sender died) can be taken again; a key marked sent stays sent.
public struct PostgresNotificationLedger: Sendable {
    let session: SQLSession
    let schema: PostgresSchema

    /// Creates the ledger; run ``PostgresSchema/migrate(_:)`` once before using it.
    ///
    /// - Parameters:
    ///   - executor: Where its statements run.
    ///   - schema: The table names.
    public init(executor: any ExportSQLExecutor, schema: PostgresSchema) {
        session = SQLSession(executor: executor)
        self.schema = schema
    }

    /// The outcome of a reservation, mirroring `ExportAWS.LedgerReservation`.
    public enum ReservationOutcome: Hashable, Sendable {
        /// The caller holds the key and must send, then mark it sent.
        case reserved
        /// The notification was already sent.
        case alreadySent
        /// Another sender holds the key until the given time.
        case inProgress(until: Date)
    }

    /// Reserves a key unless it was sent or another sender holds it.
    ///
    /// - Parameters:
    ///   - key: The notification's idempotency key.
    ///   - now: The current time.
    ///   - holdFor: How long the reservation keeps others away.
    /// - Returns: Whether the caller may send.
    /// - Throws: `ExportError` when the database fails.
    public func reserveKey(_ key: String, now: Date, holdFor: Duration) async throws -> ReservationOutcome {
        let nowText = try SQLSession.text(now)
        let untilText = try SQLSession.text(now.adding(holdFor))
        for _ in 0..<8 {
            let reserved = try await session.run(
                """
                INSERT INTO \(schema.notifications) AS n (key, reserved_until) VALUES ($1, $3::timestamptz)
                ON CONFLICT (key) DO UPDATE SET reserved_until = EXCLUDED.reserved_until
                WHERE n.sent_at IS NULL AND (n.reserved_until IS NULL OR n.reserved_until <= $2::timestamptz)
                RETURNING 'reserved'
                """,
                [key, nowText, untilText])
            if !reserved.isEmpty { return .reserved }
            let rows = try await session.run(
                "SELECT (sent_at IS NOT NULL)::text, extract(epoch FROM reserved_until)::text FROM \(schema.notifications) WHERE key = $1", [key])
            guard let row = rows.first else { continue }  // the holder gave it up meanwhile: try again
            if row[0] == "true" { return .alreadySent }
            return .inProgress(until: try SQLSession.date(epoch: row[1], "a reservation's end"))
        }
        throw ExportError(.transient, "the reservation of notification \(key) kept changing hands; try again")
    }

    /// Records that the notification was sent; it stays sent.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - at: When it was sent.
    /// - Throws: `ExportError` when the database fails.
    public func markSent(_ key: String, at: Date) async throws {
        _ = try await session.run(
            """
            INSERT INTO \(schema.notifications) AS n (key, sent_at) VALUES ($1, $2::timestamptz)
            ON CONFLICT (key) DO UPDATE SET sent_at = coalesce(n.sent_at, EXCLUDED.sent_at), reserved_until = NULL
            """,
            [key, try SQLSession.text(at)])
    }

    /// Gives up a reservation after a failed send; a sent key stays sent.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    /// - Throws: `ExportError` when the database fails.
    public func cancelReservation(_ key: String) async throws {
        _ = try await session.run("DELETE FROM \(schema.notifications) WHERE key = $1 AND sent_at IS NULL", [key])
    }
}
