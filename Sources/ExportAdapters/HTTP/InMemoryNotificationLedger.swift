import ExportCore
import Foundation
import Synchronization

/// A ``NotificationLedger`` in process memory: enough for one process; use
/// ``DynamoDBNotificationLedger`` when several workers share the work.
public final class InMemoryNotificationLedger: NotificationLedger {
    private enum Entry { case sent, reserved(until: Date, holder: LedgerHolder?) }
    private let entries = Mutex<[String: Entry]>([:])

    /// Creates an empty ledger.
    public init() {}

    /// Reserves a key unless it was sent or is held by a sender that this one does not supersede.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - holder: Who sends.
    ///   - now: The current time.
    ///   - holdFor: How long the reservation lasts.
    /// - Returns: The reservation outcome.
    public func reserve(_ key: String, holder: LedgerHolder?, now: Date, holdFor: Duration) async throws -> LedgerReservation {
        entries.withLock { entries in
            switch entries[key] {
            case .sent: return .alreadySent
            case .reserved(let until, let current) where until > now && !(holder.flatMap { h in current.map { h.supersedes($0) } } ?? false):
                return .inProgress(until: until)
            default:
                entries[key] = .reserved(until: now.adding(holdFor), holder: holder)
                return .reserved
            }
        }
    }

    /// Records a sent key.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - at: When it was sent.
    ///   - providerMessageID: The channel's message id (not kept in memory).
    public func markSent(_ key: String, at: Date, providerMessageID: String?) async throws {
        entries.withLock { $0[key] = .sent }
    }

    /// Drops a reservation (a sent key stays sent).
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    public func cancelReservation(_ key: String) async throws {
        entries.withLock { entries in
            if case .reserved = entries[key] { entries[key] = nil }
        }
    }
}
