import Foundation

/// The pure state of ``AWSCachingCredentialProvider``: which credentials are held, whether a refresh
/// is running, and until when a failed or short-lived refresh is not tried again. No I/O, no clock:
/// every event takes `now`.
struct AWSCredentialCacheState: Sendable {
    /// What a caller does.
    enum Decision: Equatable, Sendable {
        /// Sign with these credentials.
        case use(AWSCredentials)
        /// Start refresh number `generation` and wait for it.
        case refresh(generation: Int)
        /// Wait for the running refresh number `generation`.
        case join(generation: Int)
    }

    /// Refresh this long before expiry.
    var refreshAhead: TimeInterval
    /// Credentials closer than this to expiry are no longer handed out, even as a fallback.
    var minimumValidity: TimeInterval
    /// After a failed refresh (or one that gave credentials already due), how long usable old
    /// credentials are used before trying again.
    var retryInterval: TimeInterval

    private(set) var current: AWSCredentials?
    private(set) var inFlight: Int?
    private var generation = 0
    private var quietUntil: Date?

    init(refreshAhead: TimeInterval, minimumValidity: TimeInterval, retryInterval: TimeInterval) {
        self.refreshAhead = refreshAhead
        self.minimumValidity = minimumValidity
        self.retryInterval = retryInterval
    }

    /// Whether credentials need no refresh yet.
    func isFresh(_ credentials: AWSCredentials, now: Date) -> Bool {
        credentials.expiration.map { $0.timeIntervalSince(now) > refreshAhead } ?? true
    }

    /// Whether credentials may still sign a request.
    func isUsable(_ credentials: AWSCredentials, now: Date) -> Bool {
        credentials.expiration.map { $0.timeIntervalSince(now) > minimumValidity } ?? true
    }

    /// A caller wants credentials.
    mutating func request(now: Date) -> Decision {
        if let current, isFresh(current, now: now) { return .use(current) }
        if let current, isUsable(current, now: now), let quietUntil, now < quietUntil { return .use(current) }
        if let inFlight { return .join(generation: inFlight) }
        generation += 1
        inFlight = generation
        return .refresh(generation: generation)
    }

    /// Refresh `generation` returned credentials.
    mutating func refreshed(_ credentials: AWSCredentials, generation: Int, now: Date) {
        guard inFlight == generation else { return }
        inFlight = nil
        current = credentials
        quietUntil = isFresh(credentials, now: now) ? nil : now.addingTimeInterval(retryInterval)
    }

    /// Refresh `generation` failed; returns the old credentials when they may still be used.
    mutating func refreshFailed(generation: Int, now: Date) -> AWSCredentials? {
        if inFlight == generation {
            inFlight = nil
            quietUntil = now.addingTimeInterval(retryInterval)
        }
        guard let current, isUsable(current, now: now) else { return nil }
        return current
    }
}
