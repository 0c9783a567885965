import ExportCore
import Foundation

/// A record of sent notifications, for channels without native idempotency (SES, webhooks, SMTP).
///
/// A sender first ``reserve(_:now:holdFor:)``s the key, sends, then ``markSent(_:at:)``. A reservation
/// that is never confirmed (its process died) lapses after `holdFor`, so the message is sent again
/// later rather than lost; the only window for a duplicate is a crash between the channel accepting
/// the message and `markSent`.
///
/// ## Implementation requirements
/// - ``reserve(_:now:holdFor:)`` is atomic across processes: of several concurrent callers with the same
///   key, one gets ``LedgerReservation/reserved``, the others ``LedgerReservation/inProgress(until:)``.
/// - A key marked sent answers ``LedgerReservation/alreadySent`` forever after (or until the ledger's
///   retention, which must outlast redeliveries).
public protocol NotificationLedger: Sendable {
    /// Reserves a key for sending.
    ///
    /// - Parameters:
    ///   - key: The notification's idempotency key.
    ///   - now: The current time.
    ///   - holdFor: How long the reservation keeps others away.
    /// - Returns: Whether the caller may send.
    /// - Throws: `ExportError` when the ledger is unreachable.
    func reserve(_ key: String, now: Date, holdFor: Duration) async throws -> LedgerReservation

    /// Records that the notification was sent.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - at: When it was sent.
    /// - Throws: `ExportError` when the ledger is unreachable.
    func markSent(_ key: String, at: Date) async throws

    /// Gives up a reservation after a failed send, so a retry may send at once.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    /// - Throws: `ExportError` when the ledger is unreachable.
    func cancelReservation(_ key: String) async throws
}

/// The answer of ``NotificationLedger/reserve(_:now:holdFor:)``.
public enum LedgerReservation: Hashable, Sendable {
    /// The caller holds the key and must send, then mark it sent.
    case reserved
    /// The notification was already sent: do nothing.
    case alreadySent
    /// Another sender holds the key until the given time: try again later.
    case inProgress(until: Date)
}

extension NotificationLedger {
    /// Sends through `deliver` at most once per key: reserve, deliver, mark sent.
    ///
    /// A caller that finds the key reserved by another sender waits (on `clock`, polling with backoff)
    /// until that sender marks it sent, gives it up, or its reservation lapses, so concurrent sends of
    /// one key all succeed and deliver once.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - clock: The clock.
    ///   - holdFor: How long the reservation lasts.
    ///   - deliver: The actual send.
    /// - Throws: A retryable `ExportError.Code.transient` when another sender still holds the key after
    ///   `holdFor`, or what `deliver` throws.
    public func deliverOnce(
        _ key: String, clock: any ExportClock, holdFor: Duration, deliver: () async throws -> Void
    ) async throws {
        let giveUpAt = clock.now().adding(holdFor * 2)
        var pause = Duration.milliseconds(50)
        while true {
            switch try await reserve(key, now: clock.now(), holdFor: holdFor) {
            case .alreadySent:
                return
            case .inProgress(let until):
                guard clock.now() < giveUpAt else {
                    throw ExportError(.transient, "Notification \(key) is being sent by another worker", retryAt: until)
                }
                try await clock.sleep(for: pause)
                pause = min(pause * 2, .seconds(2))
            case .reserved:
                do {
                    try await deliver()
                } catch {
                    try? await cancelReservation(key)
                    throw error
                }
                try await markSent(key, at: clock.now())
                return
            }
        }
    }
}
