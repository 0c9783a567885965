import Dispatch
import ExportAdapters
import ExportCore
import Foundation

/// Answers every request with the fuzz input as a 200 JSON page.
struct OnePage: HTTPTransport {
    let body: [UInt8]
    func send(_ request: TransportRequest) async throws -> TransportResponse {
        TransportResponse(status: 200, headers: ["Content-Type": "application/json"], body: body)
    }
}

/// Runs async work to completion from the fuzzer's synchronous callback.
final class Outcome: @unchecked Sendable {
    var error: (any Error)?
    var items = 0
}

/// The HTTP source's page parsing: any body is a page or a typed corruptData error; every row it
/// accepts belongs to the owner asked for.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPPage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    Task {
        defer { done.signal() }
        do {
            var fields = HTTPMembershipSource.FieldMapping()
            fields.attributes = ["seat": "seat.number"]
            let source = try HTTPMembershipSource(
                configuration: .init(urlTemplate: "https://members.test/users/{owner}/memberships", fields: fields, maxAttempts: 1),
                transport: OnePage(body: body))
            let page = try await source.memberships(of: "u1", after: nil, limit: 100)
            guard page.items.allSatisfy({ $0.userID == "u1" }) else { fatalError("a row of another owner was accepted") }
            outcome.items = page.items.count
        } catch {
            outcome.error = error
        }
    }
    done.wait()
    if let error = outcome.error {
        guard let typed = error as? ExportError, typed.code == .corruptData else { fatalError("untyped or unexpected error: \(error)") }
    }
    return 0
}
