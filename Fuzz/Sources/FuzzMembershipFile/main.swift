import ExportAdapters
import ExportCore

/// Membership files, CSV (first byte even) or JSON Lines (odd): any input either loads or fails with
/// a typed ExportError (corruptData or invalidRequest) whose message names a line; nothing crashes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMembershipFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let format: FileMembershipSource.Format = data[0] % 2 == 0 ? .csv : .jsonLines
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    do {
        let source = try FileMembershipSource(bytes: bytes, format: format)
        _ = source.count
    } catch {
        guard error.code == .corruptData || error.code == .invalidRequest else {
            fatalError("unexpected error code \(error.code): \(error.message)")
        }
        guard error.message.hasPrefix("line ") else { fatalError("the error names no line: \(error.message)") }
    }
    return 0
}
