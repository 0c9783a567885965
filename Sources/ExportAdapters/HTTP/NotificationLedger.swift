import ExportCore
import Foundation

/// A record of sent notifications, for channels without native idempotency (SES, webhooks, SMTP).
///
/// A sender first ``reserve(_:holder:now:holdFor:)``s the key, sends, then
/// ``markSent(_:at:providerMessageID:)``. A reservation that is never confirmed (its process died) is
/// taken over by the next delivery of the same queue message at once (the ``LedgerHolder`` is a
/// fencing token: the queue redelivers a message only after the previous lease ran out), and by
/// anyone else once its hold (at most the holder's lease) lapses. The only window for a duplicate is a
/// crash between the channel accepting the message and `markSent`, which records the channel's own
/// message id.
///
/// ## Implementation requirements
/// - ``reserve(_:holder:now:holdFor:)`` is atomic across processes: of several concurrent callers with
///   the same key, one gets ``LedgerReservation/reserved``, the others
///   ``LedgerReservation/inProgress(until:)``; except that a caller whose holder supersedes the
///   current one (``LedgerHolder/supersedes(_:)``) takes the reservation over.
/// - A key marked sent answers ``LedgerReservation/alreadySent`` forever after (or until the ledger's
///   retention, which must outlast redeliveries).
public protocol NotificationLedger: Sendable {
    /// Reserves a key for sending.
    ///
    /// - Parameters:
    ///   - key: The notification's idempotency key.
    ///   - holder: Who sends (the queue message and its delivery), or `nil` for a sender that holds no
    ///     message; a reservation by an older delivery of the same message is taken over at once.
    ///   - now: The current time.
    ///   - holdFor: How long the reservation keeps others away.
    /// - Returns: Whether the caller may send.
    /// - Throws: `ExportError` when the ledger is unreachable.
    func reserve(_ key: String, holder: LedgerHolder?, now: Date, holdFor: Duration) async throws -> LedgerReservation

    /// Records that the notification was sent.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - at: When it was sent.
    ///   - providerMessageID: The channel's id of the sent message (SES's `MessageId`), kept for support.
    /// - Throws: `ExportError` when the ledger is unreachable.
    func markSent(_ key: String, at: Date, providerMessageID: String?) async throws

    /// Gives up a reservation after a failed send, so a retry may send at once.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    /// - Throws: `ExportError` when the ledger is unreachable.
    func cancelReservation(_ key: String) async throws
}

/// Who holds a ledger reservation: a fencing token made of the queue message a sender holds and the
/// delivery (receive count) it holds it under.
public struct LedgerHolder: Hashable, Sendable {
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

    /// The holder of a notification's lease, if it has one.
    ///
    /// - Parameters:
    ///   - lease: The notification's lease.
    public init?(_ lease: NotificationLease?) {
        guard let lease else { return nil }
        self.init(message: lease.messageID, delivery: lease.receiveCount)
    }

    /// Whether this holder may take over a reservation by `other`: a later delivery of the same
    /// message (the queue only redelivers once the earlier lease ran out, so that sender is gone).
    ///
    /// - Parameters:
    ///   - other: The current holder.
    /// - Returns: `true` when `other` provably lost its lease.
    public func supersedes(_ other: LedgerHolder) -> Bool {
        message == other.message && delivery > other.delivery
    }
}

/// The answer of ``NotificationLedger/reserve(_:holder:now:holdFor:)``.
public enum LedgerReservation: Hashable, Sendable {
    /// The caller holds the key and must send, then mark it sent.
    case reserved
    /// The notification was already sent: do nothing.
    case alreadySent
    /// Another sender holds the key until the given time: try again later.
    case inProgress(until: Date)
}

extension NotificationLedger {
    /// Reserves a key for a sender that holds no queue message (see
    /// ``reserve(_:holder:now:holdFor:)``).
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - now: The current time.
    ///   - holdFor: How long the reservation keeps others away.
    /// - Returns: Whether the caller may send.
    /// - Throws: `ExportError` when the ledger is unreachable.
    public func reserve(_ key: String, now: Date, holdFor: Duration) async throws -> LedgerReservation {
        try await reserve(key, holder: nil, now: now, holdFor: holdFor)
    }

    /// Records a sent key without the channel's message id.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - at: When it was sent.
    /// - Throws: `ExportError` when the ledger is unreachable.
    public func markSent(_ key: String, at: Date) async throws {
        try await markSent(key, at: at, providerMessageID: nil)
    }
}

extension NotificationLedger {
    /// Sends through `deliver` at most once per key: reserve, deliver, mark sent.
    ///
    /// The reservation lasts `holdFor`, or less: never past the sender's `lease`. A caller that finds the
    /// key reserved by another sender waits a moment (up to `patience`, polling) for it to finish, then
    /// throws a retryable error with `ExportError.retryAt` at the end of that sender's hold, so a worker
    /// puts its message back instead of blocking while a dead sender's hold runs out. A later delivery
    /// of the same message takes over the reservation at once.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - lease: The sender's queue lease, if it holds one.
    ///   - clock: The clock.
    ///   - holdFor: The longest a reservation lasts.
    ///   - patience: How long to wait for another sender before giving the message back; 2 s by default.
    ///   - deliver: The actual send; returns the channel's message id, if it has one.
    /// - Throws: A retryable `ExportError.Code.transient` when another sender holds the key, or what
    ///   `deliver` throws.
    public func deliverOnce(
        _ key: String, lease: NotificationLease? = nil, clock: any ExportClock, holdFor: Duration, patience: Duration = .seconds(2),
        deliver: () async throws -> String?
    ) async throws {
        let giveUpAt = clock.now().adding(patience)
        var pause = Duration.milliseconds(50)
        while true {
            let now = clock.now()
            var hold = holdFor
            if let lease {
                let remaining = lease.expiresAt.timeIntervalSince(now)
                hold = min(holdFor, .milliseconds(Int64(max(1, remaining) * 1000)))
            }
            switch try await reserve(key, holder: LedgerHolder(lease), now: now, holdFor: hold) {
            case .alreadySent:
                return
            case .inProgress(let until):
                guard clock.now() < giveUpAt else {
                    throw ExportError(.transient, "Notification \(key) is being sent by another worker", retryAt: until)
                }
                try await clock.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(500))
            case .reserved:
                let providerMessageID: String?
                do {
                    providerMessageID = try await deliver()
                } catch {
                    try? await cancelReservation(key)
                    throw error
                }
                try await markSent(key, at: clock.now(), providerMessageID: providerMessageID)
                return
            }
        }
    }
}
