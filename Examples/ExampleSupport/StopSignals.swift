import Dispatch
import ExportCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT handling: each signal sets the stop flag and asks the workers to shut down.
///
/// The handlers are formed here, in a nonisolated function, not in `main.swift`: a closure written in
/// top-level code is main-actor isolated, and the Swift 6 runtime traps (SIGILL, exit 132) when the
/// signal queue calls it. Everything a handler touches is `Sendable` and callable from any thread.
public final class StopSignals: @unchecked Sendable {
    /// The signal that arrived first, if any.
    public let requested = Mutex<Int32?>(nil)
    /// Kept alive for the process's lifetime; written only by ``install(program:stopping:)``, once, before any signal.
    private var sources: [any DispatchSourceSignal] = []

    /// Creates the handler set; nothing is installed yet.
    public init() {}

    /// Installs the SIGTERM and SIGINT handlers.
    ///
    /// - Parameters:
    ///   - program: The name the stop message starts with.
    ///   - workers: The workers to shut down gracefully on the first signal.
    public func install(program: String, stopping workers: [ExportWorker]) {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let first = self.requested.withLock { value -> Bool in
                    defer { value = value ?? number }
                    return value == nil
                }
                guard first else { return }
                FileHandle.standardError.write(Data(
                    "\(program): \(number == SIGTERM ? "SIGTERM" : "SIGINT") received: finishing running exports, handing the rest back\n".utf8))
                for worker in workers { worker.shutdown() }
            }
            source.resume()
            sources.append(source)
        }
    }
}
