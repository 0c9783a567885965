import ExportCore
import Foundation
import Synchronization

/// Keeps the credentials of another provider and refreshes them ahead of their expiry.
///
/// - Credentials without an expiry are fetched once and kept.
/// - Temporary credentials are refreshed ``refreshAhead`` before they expire (5 minutes by default),
///   so a request is never signed with credentials that expire while it runs.
/// - Callers that arrive while a refresh runs wait for that one refresh: one call to the wrapped
///   provider however many requests need credentials at once.
/// - When a refresh fails while the old credentials are still valid (more than ``minimumValidity``
///   left), callers get the old ones, and the refresh is tried again after ``retryInterval``. When
///   they are not, the refresh's error is thrown.
///
/// Asking is cheap once credentials are held: a lock and a clock read.
public final class AWSCachingCredentialProvider: AWSCredentialProvider {
    /// The provider whose credentials are kept.
    public let base: any AWSCredentialProvider
    /// How long before expiry credentials are refreshed.
    public let refreshAhead: Duration
    /// Credentials with less than this left are not used, even when a refresh fails.
    public let minimumValidity: Duration
    /// How long after a failed refresh the old credentials are used before trying again.
    public let retryInterval: Duration
    private let clock: any ExportClock
    private let state: Mutex<Shell>

    private struct Shell: Sendable {
        var machine: AWSCredentialCacheState
        var refresh: Task<AWSCredentials, any Error>?
    }

    /// Creates a cache over a provider.
    ///
    /// - Parameters:
    ///   - base: The provider to ask when credentials are missing or due.
    ///   - refreshAhead: How long before expiry to refresh; 5 minutes by default.
    ///   - minimumValidity: The least validity left for old credentials to be used after a failed
    ///     refresh; 1 minute by default.
    ///   - retryInterval: How long to keep using valid old credentials after a failed refresh before
    ///     trying again; 10 seconds by default.
    ///   - clock: The clock expiry is compared with; the system clock by default.
    public init(
        wrapping base: any AWSCredentialProvider,
        refreshAhead: Duration = .seconds(300),
        minimumValidity: Duration = .seconds(60),
        retryInterval: Duration = .seconds(10),
        clock: any ExportClock = SystemClock()
    ) {
        self.base = base
        self.refreshAhead = refreshAhead
        self.minimumValidity = minimumValidity
        self.retryInterval = retryInterval
        self.clock = clock
        state = Mutex(Shell(
            machine: AWSCredentialCacheState(
                refreshAhead: DurationSeconds.of(refreshAhead), minimumValidity: DurationSeconds.of(minimumValidity),
                retryInterval: DurationSeconds.of(retryInterval)),
            refresh: nil))
    }

    /// The wrapped provider's name.
    public var sourceName: String { base.sourceName }

    /// Returns the held credentials, refreshing them first when they are missing or due.
    ///
    /// - Returns: Credentials with more than ``refreshAhead`` left, or, when a refresh failed, old
    ///   ones with more than ``minimumValidity`` left.
    /// - Throws: The wrapped provider's error when no usable credentials are held.
    public func credentials() async throws -> AWSCredentials {
        let base = base
        let step: Step = state.withLock { shell in
            switch shell.machine.request(now: clock.now()) {
            case .use(let credentials):
                return .use(credentials)
            case .refresh(let generation):
                let task = Task { try await base.credentials() }
                shell.refresh = task
                return .wait(generation, task)
            case .join(let generation):
                guard let task = shell.refresh else { preconditionFailure("a refresh in flight has its task") }
                return .wait(generation, task)
            }
        }
        let generation: Int, refresh: Task<AWSCredentials, any Error>
        switch step {
        case .use(let credentials): return credentials
        case .wait(let number, let task): (generation, refresh) = (number, task)
        }
        do {
            let credentials = try await refresh.value
            state.withLock { shell in
                shell.machine.refreshed(credentials, generation: generation, now: clock.now())
                if shell.machine.inFlight == nil { shell.refresh = nil }
            }
            return credentials
        } catch {
            let fallback = state.withLock { shell in
                let old = shell.machine.refreshFailed(generation: generation, now: clock.now())
                if shell.machine.inFlight == nil { shell.refresh = nil }
                return old
            }
            if let fallback { return fallback }
            throw error
        }
    }

    /// What a caller does once the lock is released.
    private enum Step {
        case use(AWSCredentials)
        case wait(Int, Task<AWSCredentials, any Error>)
    }
}
