import ExportCore
import Foundation

/// Resumable writes: a checkpoint's point names a multipart upload (its token is the upload id) and
/// the bytes its first parts hold.
///
/// A resumed writer lists the upload's parts, takes parts 1…k whose sizes add up to exactly the point's
/// size, and goes on with part k+1; CompleteMultipartUpload lists only those parts and its own, so the
/// parts a stalled writer uploaded past the checkpoint are left out (S3 drops unlisted parts).
///
/// S3 cannot lock an upload, so "held by a live writer" is known only within this process (the
/// store's registry of live writes): a stalled writer in another process that is still uploading could
/// overwrite the resumed writer's parts. The job's lease, which fences a stalled attempt, is what keeps
/// two processes from writing one export.
extension S3BlobStore {
    /// The longest upload id accepted from a stored point (S3's are about 100 to 200 characters).
    static let maximumUploadIDLength = 1024

    /// Continues the multipart upload a checkpoint names, after the parts its size covers.
    ///
    /// - Parameters:
    ///   - key: The key the write was begun with.
    ///   - contentType: Its MIME type.
    ///   - point: What the writer's `checkpoint()` returned.
    /// - Returns: A writer that appends after `point.size` bytes, or `nil` when the token is not a
    ///   plausible upload id, S3 no longer knows the upload (`NoSuchUpload`), no run of parts from part
    ///   1 holds exactly `point.size` bytes (each at least the 5 MiB minimum), the upload is not
    ///   `key`'s, or a live writer of this store holds the upload.
    /// - Throws: `ExportError` when S3 fails or answers ListParts unreadably.
    public func resumeWrite(key: BlobKey, contentType: String, from point: BlobResumePoint) async throws -> (any BlobWriter)? {
        try await resumedWriter(key: key, contentType: contentType, from: point)
    }

    /// ``resumeWrite(key:contentType:from:)`` with ListParts' page size chosen (for tests of the paging).
    ///
    /// - Parameters:
    ///   - key: The key the write was begun with.
    ///   - contentType: Its MIME type.
    ///   - point: What the checkpoint returned.
    ///   - pageSize: Parts per ListParts page.
    /// - Returns: The writer, or `nil` as for ``resumeWrite(key:contentType:from:)``.
    /// - Throws: `ExportError` when S3 fails.
    func resumedWriter(key: BlobKey, contentType: String, from point: BlobResumePoint, pageSize: Int = 1000) async throws -> S3BlobWriter? {
        guard Self.isPlausibleUploadID(point.token), point.size > 0, !registry.liveUploadIDs.contains(point.token) else { return nil }
        let objectKey = configuration.keyPrefix + key.rawValue
        guard let listed = try await listParts(objectKey: objectKey, uploadID: point.token, pageSize: pageSize, until: point.size) else {
            return nil
        }
        // S3 answers ListParts only for the upload's own key, but not every S3-compatible server
        // checks (moto does not): make sure the upload is this key's, so it cannot finish elsewhere.
        var ownKey = false
        try await forEachUpload(prefix: objectKey) { upload in
            ownKey = upload.uploadID == point.token && upload.objectKey == objectKey
            return !ownKey
        }
        guard ownKey else { return nil }
        var parts: [S3CompletedPart] = []
        var covered: Int64 = 0
        for part in listed.parts {
            if covered == point.size { break }
            // Every part but the last must be 5 MiB, and these are followed by the resumed writer's.
            guard part.number == parts.count + 1, part.size >= Configuration.minimumPartSize else { return nil }
            parts.append(S3CompletedPart(number: part.number, etag: part.etag, checksumCRC32: part.checksumCRC32))
            let (sum, overflow) = covered.addingReportingOverflow(part.size)
            guard !overflow, sum <= point.size else { return nil }
            covered = sum
        }
        guard covered == point.size else { return nil }
        // The parts still to come carry the checksum the upload's parts carry (whatever this store is
        // configured with now).
        let checksum = Self.resumedChecksum(listed: listed.checksumAlgorithm, parts: parts)
        guard case .continue(let algorithm) = checksum else { return nil }
        let writer = S3BlobWriter(
            store: self, key: key, contentType: contentType, uploadID: point.token, parts: parts, size: covered,
            checksumAlgorithm: algorithm)
        guard registry.claim(writer.id, startedAt: client.clock.now(), writer: writer, uploadID: point.token) else { return nil }
        return writer
    }

    /// Whether an upload can be continued, and with which checksum on the parts still to come.
    enum ResumedChecksum: Equatable {
        /// Continue it; its parts carry this checksum (`nil`: none).
        case `continue`(Configuration.ChecksumAlgorithm?)
        /// Leave it: CompleteMultipartUpload would refuse it, or it needs a checksum this store cannot make.
        case refuse
    }

    /// The checksum a resumed upload goes on with. The algorithm ListParts names (S3 names the one the
    /// upload was created with) decides; when it names none (moto), the listed parts do. An upload
    /// created with CRC32 whose listed parts lack one, one created with another algorithm, or one
    /// whose parts disagree is not continued. CRC64NVME with no part checksums is the full-object
    /// checksum S3 computes by itself for an upload created without one: it goes on without.
    static func resumedChecksum(listed algorithm: String?, parts: [S3CompletedPart]) -> ResumedChecksum {
        let checksummed = parts.filter { $0.checksumCRC32 != nil }.count
        switch algorithm?.uppercased() {
        case nil:
            if checksummed == 0 { return .continue(nil) }
            return checksummed == parts.count ? .continue(.crc32) : .refuse
        case Configuration.ChecksumAlgorithm.crc32.rawValue:
            return checksummed == parts.count ? .continue(.crc32) : .refuse
        case "CRC64NVME":
            return checksummed == 0 ? .continue(nil) : .refuse
        default:
            return .refuse
        }
    }

    /// Aborts the multipart upload a checkpoint names, unless a live writer of this store holds it.
    /// Idempotent: an upload S3 no longer knows, or a token that is not an upload id, is nothing to
    /// remove.
    ///
    /// The point carries no key, and AbortMultipartUpload needs one: the upload is found by listing the
    /// uploads under the key prefix.
    ///
    /// - Parameters:
    ///   - point: What the writer's `checkpoint()` returned.
    /// - Throws: `ExportError` when S3 fails.
    public func discardWrite(_ point: BlobResumePoint) async throws {
        guard Self.isPlausibleUploadID(point.token), !registry.liveUploadIDs.contains(point.token) else { return }
        var found: String?
        try await forEachUpload { upload in
            if upload.uploadID == point.token { found = upload.objectKey }
            return found == nil
        }
        guard let found else { return }
        try await abortUpload(objectKey: found, uploadID: point.token)
    }

    /// Whether a token from a stored point can be an upload id: 1 to 1,024 characters of ASCII letters,
    /// digits and `-_.=+~` (no `/`, `?`, `&`, `%`, spaces or control characters), so it cannot change
    /// the request it is put in.
    ///
    /// - Parameters:
    ///   - token: The point's token.
    /// - Returns: `true` when it is plausible.
    static func isPlausibleUploadID(_ token: String) -> Bool {
        let allowed = Set("-_.=+~".utf8)
        return (1...maximumUploadIDLength).contains(token.utf8.count)
            && token.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || allowed.contains($0) }
    }
}
