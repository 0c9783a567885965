import ExportCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// When an exchange gives up: its timeout after the last byte that moved, as URLSession's
/// `timeoutInterval`, so a large body on a slow link is not cut off while it is still moving. Used by
/// the one thread of its exchange.
final class HTTP1Deadline {
    let timeout: Duration
    private(set) var instant: ContinuousClock.Instant

    init(timeout: Duration, start: ContinuousClock.Instant = .now) {
        self.timeout = timeout
        instant = start + timeout
    }

    /// Bytes moved: the timeout counts again from now.
    func progressed() { instant = ContinuousClock.now + timeout }
}

/// The socket an exchange is waiting on, so that cancelling the task shuts it down and wakes the wait.
final class HTTP1Cancellation: Sendable {
    private struct State {
        var descriptor: Int32?
        var cancelled = false
    }
    private let state = Mutex(State())

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Makes `descriptor` the one a cancellation shuts down; an exchange already cancelled keeps none.
    func register(_ descriptor: Int32) throws(HTTP1Failure) {
        let cancelled = state.withLock { state in
            if !state.cancelled { state.descriptor = descriptor }
            return state.cancelled
        }
        if cancelled { throw .cancelled }
    }

    /// Forgets the descriptor; called before it can be closed, so a cancellation never shuts down a
    /// reused descriptor number.
    func unregister() { state.withLock { $0.descriptor = nil } }

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            if let descriptor = state.descriptor { _ = shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }
}
