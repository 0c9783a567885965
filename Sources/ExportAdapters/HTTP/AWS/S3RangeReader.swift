import ExportCore
import Foundation

/// Pulls one object chunk by chunk with ranged GETs pinned to its ETag.
actor S3RangeReader {
    private let store: S3BlobStore
    private let key: BlobKey
    private let size: Int64
    private let etag: String?
    private var offset: Int64 = 0

    init(store: S3BlobStore, key: BlobKey, size: Int64, etag: String?) {
        self.store = store
        self.key = key
        self.size = size
        self.etag = etag
    }

    /// The next chunk, or `nil` at the end.
    func next() async throws -> [UInt8]? {
        guard offset < size else { return nil }
        let last = min(size, offset + Int64(store.configuration.readChunkSize)) - 1
        var headers: [(name: String, value: String)] = [("Range", "bytes=\(offset)-\(last)")]
        if let etag { headers.append(("If-Match", etag)) }
        let (endpoint, path) = store.location(key)
        let store = self.store
        let key = self.key
        let response = try await store.retrying {
            let response = try await store.client.send(method: "GET", endpoint: endpoint, path: path, headers: headers, contentHashHeader: true)
            // 412 is not retried in place: the object changed, so the whole read must start over.
            guard response.isSuccess || response.status == 412 else { throw store.client.xmlError(response, operation: "GetObject") }
            return response
        }
        if response.status == 412 {
            throw ExportError(.corruptData, "The blob \(key) changed while it was being read", isRetryable: true)
        }
        let expected = Int(last - offset + 1)
        let bytes = response.status == 200 ? Array(response.body.dropFirst(Int(offset)).prefix(expected)) : response.body
        guard bytes.count == expected else {
            throw ExportError(.io, "GetObject returned \(bytes.count) bytes of \(key), expected \(expected)", isRetryable: true)
        }
        offset += Int64(bytes.count)
        return bytes
    }
}
