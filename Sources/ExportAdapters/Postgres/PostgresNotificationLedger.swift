import ExportCore
import Foundation

/// A record of sent notifications in a PostgreSQL table, for channels without idempotency keys (SES,
/// webhooks, SMTP): the `NotificationLedger` of `ExportAWS`, shared by every worker on the database.
///
/// This module does not depend on `ExportAWS`, so a host that uses both declares the conformance,
/// mapping ``Holder`` to `LedgerHolder` and ``ReservationOutcome`` to `LedgerReservation` (the tests of
/// `Examples/ExportServer` do):
///
/// ```swift
/// extension PostgresNotificationLedger: @retroactive NotificationLedger {
///     public func reserve(_ key: String, holder: LedgerHolder?, now: Date, holdFor: Duration) async throws -> LedgerReservation {
///         switch try await reserveKey(key, holder: holder.map { Holder(message: $0.message, delivery: $0.delivery) }, now: now, holdFor: holdFor) {
///         case .reserved: .reserved
///         case .alreadySent: .alreadySent
///         case .inProgress(let until): .inProgress(until: until)
///         }
///     }
///     // markSent(_:at:providerMessageID:) is the ledger's own method, with the protocol's signature.
/// }
/// ```
///
/// ``reserveKey(_:holder:now:holdFor:)`` is one `INSERT … ON CONFLICT DO UPDATE … WHERE` statement: of
/// concurrent callers with one key, exactly one gets ``ReservationOutcome/reserved``. A reservation is
/// fenced by its ``Holder``: a later delivery of the same queue message takes it over at once (the
/// queue redelivers only after the earlier lease ran out, so that sender is gone); anyone else waits
/// until the hold lapses. A key marked sent stays sent.
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

    /// Who holds a reservation: a fencing token made of the queue message a sender holds and its
    /// delivery (receive count), as `ExportAWS.LedgerHolder`.
    public struct Holder: Hashable, Sendable {
        /// The queue message's id.
        public var message: String
        /// Its receive count at this delivery.
        public var delivery: Int

        /// Creates a holder.
        ///
        /// - Parameters:
        ///   - message: The queue message's id.
        ///   - delivery: Its receive count at this delivery.
        public init(message: String, delivery: Int) {
            self.message = message
            self.delivery = delivery
        }
    }

    /// Reserves a key for a sender that holds no queue message (``reserveKey(_:holder:now:holdFor:)``).
    ///
    /// - Parameters:
    ///   - key: The notification's idempotency key.
    ///   - now: The current time.
    ///   - holdFor: How long the reservation keeps others away.
    /// - Returns: Whether the caller may send.
    /// - Throws: `ExportError` when the database fails.
    public func reserveKey(_ key: String, now: Date, holdFor: Duration) async throws -> ReservationOutcome {
        try await reserveKey(key, holder: nil, now: now, holdFor: holdFor)
    }

    /// Reserves a key unless it was sent or another sender holds it; a later delivery of the holder's
    /// own message takes the reservation over at once.
    ///
    /// - Parameters:
    ///   - key: The notification's idempotency key.
    ///   - holder: Who sends, or `nil` for a sender that holds no queue message.
    ///   - now: The current time.
    ///   - holdFor: How long the reservation keeps others away.
    /// - Returns: Whether the caller may send.
    /// - Throws: `ExportError` when the database fails.
    public func reserveKey(_ key: String, holder: Holder?, now: Date, holdFor: Duration) async throws -> ReservationOutcome {
        let nowText = try SQLSession.text(now)
        let untilText = try SQLSession.text(now.adding(holdFor))
        let message = holder.map { String($0.message.prefix(512)) }
        let delivery = holder.map { String($0.delivery) }
        for _ in 0..<8 {
            let reserved = try await session.run(
                """
                INSERT INTO \(schema.notifications) AS n (key, reserved_until, holder_message, holder_delivery)
                VALUES ($1, $3::timestamptz, $4, $5::integer)
                ON CONFLICT (key) DO UPDATE SET reserved_until = EXCLUDED.reserved_until,
                    holder_message = EXCLUDED.holder_message, holder_delivery = EXCLUDED.holder_delivery
                WHERE n.sent_at IS NULL AND (
                    n.reserved_until IS NULL OR n.reserved_until <= $2::timestamptz
                    OR ($4::text IS NOT NULL AND n.holder_message = $4::text AND n.holder_delivery < $5::integer))
                RETURNING 'reserved'
                """,
                [key, nowText, untilText, message, delivery])
            if !reserved.isEmpty { return .reserved }
            let rows = try await session.run(
                "SELECT (sent_at IS NOT NULL)::text, extract(epoch FROM reserved_until)::text FROM \(schema.notifications) WHERE key = $1", [key])
            guard let row = rows.first else { continue }  // the holder gave it up meanwhile: try again
            if row[0] == "true" { return .alreadySent }
            return .inProgress(until: try SQLSession.date(epoch: row[1], "a reservation's end"))
        }
        throw ExportError(.transient, "the reservation of notification \(key) kept changing hands; try again")
    }

    /// Records that the notification was sent; it stays sent (the first send's time and id are kept).
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - at: When it was sent.
    ///   - providerMessageID: The channel's id of the sent message (SES's `MessageId`), if any.
    /// - Throws: `ExportError` when the database fails.
    public func markSent(_ key: String, at: Date, providerMessageID: String? = nil) async throws {
        _ = try await session.run(
            """
            INSERT INTO \(schema.notifications) AS n (key, sent_at, provider_message_id) VALUES ($1, $2::timestamptz, $3)
            ON CONFLICT (key) DO UPDATE SET sent_at = coalesce(n.sent_at, EXCLUDED.sent_at),
                provider_message_id = CASE WHEN n.sent_at IS NULL THEN EXCLUDED.provider_message_id ELSE n.provider_message_id END,
                reserved_until = NULL
            """,
            [key, try SQLSession.text(at), providerMessageID.map { String($0.prefix(512)) }])
    }

    /// The channel's id of a sent notification, as recorded by ``markSent(_:at:providerMessageID:)``.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    /// - Returns: The id, or `nil` when the key was not sent or no id was recorded.
    /// - Throws: `ExportError` when the database fails.
    public func providerMessageID(of key: String) async throws -> String? {
        let rows = try await session.run("SELECT provider_message_id FROM \(schema.notifications) WHERE key = $1 AND sent_at IS NOT NULL", [key])
        return rows.first?[0] ?? nil
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
