import ExportCore
import Foundation

/// The HMAC-SHA256 signature of webhook deliveries, for senders and receivers.
///
/// The header is `X-Export-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
/// Signing the timestamp with the body lets a receiver reject replays older than a tolerance.
/// Receivers should verify with ``verify(header:body:secret:now:tolerance:)`` (constant-time) and
/// de-duplicate on the `X-Export-Event-ID` header, since deliveries are retried.
public enum WebhookSignature {
    /// The signature header's name.
    public static let headerName = "X-Export-Signature"
    /// The event id header's name.
    public static let eventIDHeaderName = "X-Export-Event-ID"

    /// The header value for a body.
    ///
    /// - Parameters:
    ///   - body: The exact bytes sent.
    ///   - secret: The shared secret.
    ///   - timestamp: When it is sent.
    /// - Returns: `t=<unix>,v1=<hex>`.
    public static func sign(body: [UInt8], secret: [UInt8], timestamp: Date) -> String {
        let seconds = Int64(timestamp.timeIntervalSince1970.rounded(.down))
        return "t=\(seconds),v1=\(mac(body: body, secret: secret, seconds: seconds).hexString)"
    }

    /// Checks a delivery's signature and freshness.
    ///
    /// - Parameters:
    ///   - header: The `X-Export-Signature` value received.
    ///   - body: The exact bytes received.
    ///   - secret: The shared secret.
    ///   - now: The receiver's current time.
    ///   - tolerance: The largest accepted age (and clock skew); 5 minutes by default.
    /// - Returns: `true` when the signature matches and the timestamp is within the tolerance.
    public static func verify(
        header: String, body: [UInt8], secret: [UInt8], now: Date = Date(), tolerance: Duration = .seconds(300)
    ) -> Bool {
        var seconds: Int64?
        var candidates: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { seconds = Int64(pair[1]) }
            if pair[0] == "v1", let bytes = Hex.decodeCanonical(pair[1], byteCount: 32) { candidates.append(bytes) }
        }
        guard let seconds, !candidates.isEmpty else { return false }
        let age = abs(now.timeIntervalSince1970 - TimeInterval(seconds))
        guard age <= DurationSeconds.of(tolerance) else { return false }
        let expected = mac(body: body, secret: secret, seconds: seconds).bytes
        return candidates.contains { HMACSHA256.constantTimeEquals($0, expected) }
    }

    private static func mac(body: [UInt8], secret: [UInt8], seconds: Int64) -> SHA256Hasher.Digest {
        var hmac = HMACSHA256(key: secret)
        hmac.update(Array("\(seconds).".utf8))
        hmac.update(body)
        return hmac.finalize()
    }
}
