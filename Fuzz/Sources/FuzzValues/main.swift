import ExportAdapters
import ExportCore
import Foundation

/// Whether `text` is SigV4's canonical URI encoding: unreserved bytes, `%XX` in upper case, and the
/// separators `extra` allows.
func isCanonicallyEncoded(_ text: Substring, extra: Set<UInt8>) -> Bool {
    let bytes = Array(text.utf8)
    var index = 0
    while index < bytes.count {
        let byte = bytes[index]
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            index += 1
        case UInt8(ascii: "%"):
            guard index + 2 < bytes.count else { return false }
            for digit in bytes[(index + 1)...(index + 2)] {
                guard (0x30...0x39).contains(digit) || (0x41...0x46).contains(digit) else { return false }
            }
            index += 3
        default:
            guard extra.contains(byte) else { return false }
            index += 1
        }
    }
    return true
}

/// `EmailAddress(validating:)` as its documentation states it: an accepted address is the text itself,
/// reads back through its description and through Codable to the same value, and is the plain
/// `local@domain` form (printable ASCII only: no whitespace, control characters or quotes; one `@`; a
/// local part of 1–64 bytes; a dotted domain; at most 254 bytes). A refusal is an `invalidRecipient`
/// error whose message quotes at most 80 characters and cannot break a log line.
func checkEmailAddress(_ text: String) {
    let address: EmailAddress
    do {
        address = try EmailAddress(validating: text)
    } catch {
        guard error.code == .invalidRecipient, !error.isRetryable else { fatalError("e-mail refused with \(error.code)") }
        guard EmailAddress(text) == nil else { fatalError("e-mail \(text.debugDescription): the two initialisers disagree") }
        guard !error.message.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }), error.message.count <= 80 * 12 + 40 else {
            fatalError("the refusal of \(text.debugDescription) has an unbounded or multi-line message")
        }
        return
    }
    guard address.rawValue == text, address.description == text, EmailAddress(text) == address else {
        fatalError("e-mail \(text.debugDescription) is not kept as given")
    }
    guard (try? EmailAddress(validating: address.description)) == address else { fatalError("e-mail \(text.debugDescription) does not read back") }
    guard let json = try? JSONEncoder().encode(address), (try? JSONDecoder().decode(EmailAddress.self, from: json)) == address else {
        fatalError("e-mail \(text.debugDescription) does not round-trip through Codable")
    }
    let bytes = Array(text.utf8)
    guard bytes.count <= 254, bytes.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\"") }) else {
        fatalError("e-mail \(text.debugDescription) holds whitespace, a control, a quote or non-ASCII, or is too long")
    }
    let parts = bytes.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
    guard parts.count == 2, (1...64).contains(parts[0].count), parts[1].contains(UInt8(ascii: ".")) else {
        fatalError("e-mail \(text.debugDescription) is not local@dotted.domain")
    }
}

/// Value parsers: each either refuses the text or accepts it in a form that reads back to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzValues(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let rest = UnsafeBufferPointer(start: data + 1, count: size - 1)
    let text = String(decoding: rest, as: UTF8.self)
    switch data[0] % 7 {
    case 0:
        // RFC 3339: bytes and String agree; an accepted date is written and read back to itself.
        let fromBytes = try? RFC3339.parse(utf8: rest)
        let fromText = try? RFC3339.parse(text)
        if Array(text.utf8) == Array(rest), fromBytes != fromText {
            fatalError("bytes and String disagree on \(text.debugDescription)")
        }
        if let date = fromBytes, let written = RFC3339.string(date, fractionDigits: 9) {
            guard let back = try? RFC3339.parse(written) else { fatalError("\(written) does not read back") }
            let t = date.timeIntervalSinceReferenceDate
            guard abs(back.timeIntervalSinceReferenceDate - t) <= 0.5e-9 + t.ulp else {
                fatalError("\(text.debugDescription) -> \(written) -> another instant")
            }
            guard written.utf8.count == 30, written.hasSuffix("Z") else { fatalError("\(written) is not canonical") }
        }
    case 1:
        if let value = ExactDecimal(text) {
            guard ExactDecimal(value.description) == value else { fatalError("\(text.debugDescription) -> \(value) does not read back") }
        }
    case 2:
        checkEmailAddress(text)
    case 3:
        if let id = JobID(text) {
            guard JobID(id.rawValue) == id, id.rawValue == text else { fatalError("job id \(text.debugDescription) changed") }
        }
    case 4:
        if let key = BlobKey(text) {
            guard BlobKey(key.rawValue) == key else { fatalError("blob key \(text.debugDescription) does not read back") }
            guard DownloadLinkSigner.keyText(fromToken: DownloadLinkSigner.token(for: key)) == key.rawValue else {
                fatalError("the link token of \(text.debugDescription) does not decode to it")
            }
        }
        _ = DownloadLinkSigner.keyText(fromToken: text)
    case 5:
        if let bytes = Hex.decodeCanonical(text, byteCount: text.utf8.count / 2) {
            guard Hex.encode(bytes) == text else { fatalError("hex \(text.debugDescription) is not canonical") }
        }
    default:
        // SigV4: whatever the path and query, the canonical request encodes them canonically.
        let parts = text.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = "/" + String(parts[0])
        let query = parts.count > 1
            ? parts[1].split(separator: "&").map { item -> (String, String) in
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
            } : []
        let signer = AWSSigner(
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "s3")
        let signed = signer.sign(
            method: "GET", endpoint: URL(string: "https://examplebucket.s3.amazonaws.com")!, path: path, query: query,
            payload: .unsigned, date: Date(timeIntervalSince1970: 1_369_353_600))
        let lines = signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 3, isCanonicallyEncoded(lines[1], extra: [UInt8(ascii: "/")]),
            isCanonicallyEncoded(lines[2], extra: [UInt8(ascii: "="), UInt8(ascii: "&")])
        else { fatalError("not canonically encoded: \(signed.canonicalRequest.debugDescription)") }
        guard signed.signature.utf8.count == 64, Hex.decodeCanonical(signed.signature, byteCount: 32) != nil else {
            fatalError("the signature is not 64 lower-case hex digits")
        }
    }
    return 0
}
