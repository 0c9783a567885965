import ExportCore
import Foundation

extension ExportAPIHandler {
    /// `GET {downloadPath}/{link}`: verifies the link and streams the file it grants; for `HEAD`
    /// (`headOnly`), the same header fields without opening the file.
    func serveSignedDownload(_ link: String, query: [URLQueryItem], headOnly: Bool) async throws -> APIResponse {
        guard let resolver, let downloadStore else { return problem(.notFound, "no route for this path") }
        let verdict = try await resolver.verify(path: link, query: query)
        switch verdict.kind {
        case .expired:
            return problem(.linkExpired, "the link has expired; open the export's download address again for a new one")
        case .valid:
            guard let key = verdict.key, let filename = verdict.filename else {
                return problem(.badSignature, "the link was altered or is not a download link")
            }
            guard let metadata = try await downloadStore.metadata(key) else {
                return problem(.linkExpired, "the file is no longer stored")
            }
            let contentType = Self.hasControlBreak(metadata.contentType) ? "application/octet-stream" : metadata.contentType
            var response = APIResponse(
                status: 200,
                headers: [
                    ("Content-Type", contentType),
                    ("Content-Length", String(metadata.size)),
                    ("Content-Disposition", Self.contentDisposition(filename: filename)),
                    ("Cache-Control", "private, no-store"),
                    ("X-Content-Type-Options", "nosniff"),
                ])
            guard !headOnly else { return response }
            let stream: AsyncThrowingStream<[UInt8], any Error>
            do {
                stream = try await downloadStore.read(key)
            } catch let error as ExportError where error.code == .notFound {
                return problem(.linkExpired, "the file is no longer stored")
            }
            response.body = .stream(Self.exactly(metadata.size, of: stream), length: metadata.size)
            return response
        default:
            return problem(.badSignature, "the link was altered or is not a download link")
        }
    }

    /// The stream, held to the length already sent as `Content-Length`. The size comes from
    /// `BlobStore.metadata(_:)` before the stream is opened, so a blob replaced or truncated in
    /// between could otherwise send a body of another length under that header: a corrupt file the
    /// client cannot tell from a good one. A chunk that would pass the length, or an end short of it,
    /// ends the stream with an error instead (the host aborts the response; the client sees an
    /// incomplete download).
    ///
    /// - Parameters:
    ///   - length: The declared length.
    ///   - stream: The blob's chunks.
    /// - Returns: The same chunks, or an error at the first sign of another length.
    static func exactly(_ length: Int64, of stream: AsyncThrowingStream<[UInt8], any Error>) -> AsyncThrowingStream<[UInt8], any Error> {
        let cursor = LengthCheckedCursor(iterator: stream.makeAsyncIterator(), remaining: length)
        return AsyncThrowingStream(unfolding: { try await cursor.next() })
    }
}

/// The state of ``ExportAPIHandler/exactly(_:of:)``. `@unchecked Sendable` because
/// `AsyncThrowingStream(unfolding:)` awaits each call before making the next, so the iterator and the
/// count are never touched concurrently.
private final class LengthCheckedCursor: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
    private var remaining: Int64

    init(iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator, remaining: Int64) {
        self.iterator = iterator
        self.remaining = remaining
    }

    func next() async throws -> [UInt8]? {
        guard let chunk = try await iterator.next() else {
            guard remaining == 0 else { throw ExportError(.corruptData, "the blob ended \(remaining) bytes short of its size") }
            return nil
        }
        guard Int64(chunk.count) <= remaining else { throw ExportError(.corruptData, "the blob is longer than its size") }
        remaining -= Int64(chunk.count)
        return chunk
    }
}

extension ExportAPIHandler {

    /// `attachment; filename="…"` per RFC 6266, adding `filename*=UTF-8''…` (RFC 8187) when the name
    /// is not plain printable ASCII. The quoted fallback replaces anything unsafe with `_`.
    ///
    /// - Parameters:
    ///   - filename: The name to save the file as.
    /// - Returns: The header value.
    static func contentDisposition(filename: String) -> String {
        let name = filename.isEmpty ? "download" : filename
        var fallback = ""
        var plain = true
        for scalar in name.unicodeScalars {
            switch scalar.value {
            case 0x20...0x7E where scalar != "\"" && scalar != "\\" && scalar != "%":
                fallback.unicodeScalars.append(scalar)
            case 0x20...0x7E:
                fallback.append("_")
                if scalar == "%" { plain = false }
            default:
                fallback.append("_")
                plain = false
            }
        }
        guard !plain else { return "attachment; filename=\"\(fallback)\"" }
        var encoded = ""
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "+"), UInt8(ascii: "-"),
                UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0x0F, radix: 16, uppercase: true)
            }
        }
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}
