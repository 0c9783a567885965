import ExportAdapters
import ExportCore
import Foundation
import Synchronization

/// The Python fixture (`Fixtures/host_api.py`) standing in for a host's memberships API and webhook
/// receiver: one process for the whole test run.
enum HostAPIServer {
    private static let shared = Mutex<Task<PeerProcess, any Error>?>(nil)

    static func peer() async throws -> PeerProcess {
        let task = shared.withLock { task in
            if let task { return task }
            let started = Task { try await PeerProcess.start(script: "host_api.py") }
            task = started
            return started
        }
        return try await task.value
    }
}

/// A clock whose sleeps return at once and are recorded, so retry tests take no time.
final class RecordingClock: ExportClock {
    private let state = Mutex<(now: Date, sleeps: [Duration])>((Date(), []))

    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    func now() -> Date { state.withLock { $0.now } }

    func sleep(for duration: Duration) async throws {
        state.withLock { state in
            state.sleeps.append(duration)
            state.now = state.now.adding(duration)
        }
    }
}
