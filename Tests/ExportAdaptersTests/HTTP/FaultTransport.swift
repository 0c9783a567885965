import ExportAdapters
import ExportCore
import Foundation
import Synchronization

/// A transport that passes requests to another one (or answers them itself) and injects faults
/// chosen per request by a rule: answer with a canned response, fail before sending, or send and
/// then lose the response (the case a retry must survive). Records every request it saw.
final class FaultTransport: HTTPTransport {
    /// What to do with one request.
    enum Action: Sendable {
        /// Send it and return the response.
        case pass
        /// Do not send it; answer with this response.
        case respond(TransportResponse)
        /// Do not send it; throw.
        case fail(ExportError)
        /// Send it, then throw as if the response was lost.
        case loseResponse(ExportError)
    }

    let inner: any HTTPTransport
    let rule: @Sendable (TransportRequest, _ index: Int) -> Action
    let requests = Mutex<[TransportRequest]>([])

    /// - Parameters:
    ///   - inner: Where passed requests go.
    ///   - rule: Decides per request; `index` counts the requests seen so far, from 0.
    init(inner: any HTTPTransport = URLSessionTransport(), rule: @escaping @Sendable (TransportRequest, _ index: Int) -> Action) {
        self.inner = inner
        self.rule = rule
    }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let index = requests.withLock { requests in
            requests.append(request)
            return requests.count - 1
        }
        switch rule(request, index) {
        case .pass:
            return try await inner.send(request)
        case .respond(let response):
            return response
        case .fail(let error):
            throw error
        case .loseResponse(let error):
            _ = try await inner.send(request)
            throw error
        }
    }

    /// The recorded requests whose `X-Amz-Target` ends with `operation`.
    func requests(target operation: String) -> [TransportRequest] {
        requests.withLock { $0.filter { $0.header("x-amz-target")?.hasSuffix("." + operation) == true } }
    }

    /// A rule that loses the response of the first `count` requests matching `matches`.
    static func losingFirst(
        _ count: Int = 1, where matches: @escaping @Sendable (TransportRequest) -> Bool
    ) -> @Sendable (TransportRequest, Int) -> Action {
        let lost = Mutex(0)
        return { request, _ in
            guard matches(request) else { return .pass }
            let lose = lost.withLock { lost in
                guard lost < count else { return false }
                lost += 1
                return true
            }
            return lose ? .loseResponse(ExportError(.timeout, "injected: the response was lost")) : .pass
        }
    }
}

extension TransportRequest {
    /// Whether this is a JSON-protocol call of `operation` (`X-Amz-Target` ends with it).
    func isTarget(_ operation: String) -> Bool {
        header("x-amz-target")?.hasSuffix("." + operation) == true
    }
}
