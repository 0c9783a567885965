import ExportCore
import Foundation

/// One part of a multipart upload, as ListParts describes it.
struct S3UploadPart: Sendable, Equatable {
    /// Its part number, 1 to 10,000.
    var number: Int
    /// Its ETag, as CompleteMultipartUpload wants it back.
    var etag: String
    /// Its size in bytes.
    var size: Int64
    /// When it was uploaded, or `nil` when S3 did not say (or said it unreadably).
    var lastModified: Date?
    /// Its CRC-32 checksum (base64), when it was uploaded with one.
    var checksumCRC32: String? = nil
}

/// One page of a ListParts answer, read strictly: an element that is there must be well formed.
struct S3PartsPage: Sendable, Equatable {
    /// The parts on this page, in increasing part number.
    var parts: [S3UploadPart]
    /// Whether more parts follow.
    var isTruncated: Bool
    /// The `part-number-marker` of the next page, when truncated.
    var nextMarker: Int?
    /// The checksum algorithm the upload was created with (`ChecksumAlgorithm`, as S3 names it:
    /// `CRC32`, `SHA256`…), when the answer says; moto does not.
    var checksumAlgorithm: String? = nil

    /// The highest part number S3 accepts.
    static let maximumPartNumber = 10_000

    /// Reads a ListParts answer for `uploadID`.
    ///
    /// - Parameters:
    ///   - bytes: The response body.
    ///   - uploadID: The upload that was listed; an answer naming another one is refused.
    /// - Returns: The page.
    /// - Throws: A retryable `ExportError.Code.corruptData` when the body is not a `ListPartsResult`, a
    ///   part lacks a number in 1…10,000, an ETag or a size, the numbers do not increase, or a
    ///   truncated page has no usable next marker.
    static func parse(_ bytes: [UInt8], uploadID: String) throws(ExportError) -> S3PartsPage {
        func corrupt(_ reason: String) -> ExportError {
            ExportError(.corruptData, "ListParts answered \(reason)", isRetryable: true)
        }
        // moto names the root `ListPartsResponse`; S3 and the others, `ListPartsResult`.
        guard let document = XMLNode.parse(bytes), ["ListPartsResult", "ListPartsResponse"].contains(document.name) else {
            throw corrupt("with something other than a ListPartsResult")
        }
        if let listed = document.value("UploadId"), listed != uploadID { throw corrupt("for another upload") }
        var parts: [S3UploadPart] = []
        for node in document.children("Part") {
            guard let number = node.value("PartNumber").flatMap({ Int($0) }), (1...maximumPartNumber).contains(number),
                  number > parts.last?.number ?? 0
            else { throw corrupt("with a missing, out-of-range or out-of-order PartNumber") }
            guard let etag = node.value("ETag"), !etag.isEmpty else { throw corrupt("without the ETag of part \(number)") }
            guard let size = node.value("Size").flatMap({ Int64($0) }), size >= 0 else {
                throw corrupt("without a valid Size for part \(number)")
            }
            let lastModified = node.value("LastModified").flatMap(S3BlobStore.parseDate)
            let checksum = node.value("ChecksumCRC32")
            if let checksum, checksum.isEmpty || checksum.utf8.count > 16
                || !checksum.utf8.allSatisfy({ $0 == 0x2B || $0 == 0x2F || $0 == 0x3D || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) {
                throw corrupt("with a ChecksumCRC32 that is not base64 for part \(number)")
            }
            parts.append(S3UploadPart(number: number, etag: etag, size: size, lastModified: lastModified, checksumCRC32: checksum))
        }
        let isTruncated: Bool
        switch document.value("IsTruncated") {
        case nil, "false": isTruncated = false
        case "true": isTruncated = true
        case let other?: throw corrupt("with IsTruncated '\(other.prefix(20))'")
        }
        var nextMarker: Int?
        if isTruncated {
            // The marker must move past this page, or the listing would never end.
            guard let marker = document.value("NextPartNumberMarker").flatMap({ Int($0) }), let last = parts.last?.number,
                  marker >= last, marker < maximumPartNumber
            else { throw corrupt("a truncated page without a NextPartNumberMarker past its parts") }
            nextMarker = marker
        }
        // An empty element names none; any other name is for the resume to accept or refuse, so that
        // an algorithm this version does not know never stops the listing (or the sweep that uses it).
        let algorithm = document.value("ChecksumAlgorithm").flatMap { $0.isEmpty ? nil : $0 }
        return S3PartsPage(parts: parts, isTruncated: isTruncated, nextMarker: nextMarker, checksumAlgorithm: algorithm)
    }
}

/// An upload in progress, as ListMultipartUploads describes it.
struct S3ListedUpload: Sendable, Equatable {
    /// The object key it will complete under (with the store's prefix).
    var objectKey: String
    /// Its upload id.
    var uploadID: String
    /// When S3 says it was initiated, or `nil` when it did not say readably.
    var initiated: Date?
}

extension S3BlobStore {
    /// Lists an upload's parts in increasing part number, following `NextPartNumberMarker` from page
    /// to page.
    ///
    /// - Parameters:
    ///   - objectKey: The upload's object key (with the prefix).
    ///   - uploadID: The upload.
    ///   - pageSize: `max-parts` per page; S3's 1,000 by default (smaller in tests of the paging).
    ///   - bytes: Stop after the page on which the parts reach this many bytes; `nil` lists them all.
    /// - Returns: The parts and the upload's checksum algorithm when S3 names it, or `nil` when S3
    ///   does not know the upload (`NoSuchUpload`: aborted, completed, or never there).
    /// - Throws: `ExportError` when S3 fails or answers unreadably.
    func listParts(
        objectKey: String, uploadID: String, pageSize: Int = 1000, until bytes: Int64? = nil
    ) async throws -> (parts: [S3UploadPart], checksumAlgorithm: String?)? {
        let (endpoint, path) = location(objectKey: objectKey)
        var parts: [S3UploadPart] = []
        var algorithm: String?
        var covered: Int64 = 0
        var marker = 0
        while true {
            var query = [("max-parts", String(max(1, pageSize))), ("uploadId", uploadID)]
            if marker > 0 { query.append(("part-number-marker", String(marker))) }
            let page: S3PartsPage? = try await retrying {
                let response = try await client.send(method: "GET", endpoint: endpoint, path: path, query: query, contentHashHeader: true)
                if response.isSuccess { return try S3PartsPage.parse(response.body, uploadID: uploadID) }
                if Self.serviceCode(response) == "NoSuchUpload" { return nil }
                throw client.xmlError(response, operation: "ListParts")
            }
            guard let page else { return nil }
            guard page.parts.first.map({ $0.number > max(marker, parts.last?.number ?? 0) }) ?? true else {
                throw ExportError(.corruptData, "ListParts answered part numbers that do not follow the marker", isRetryable: true)
            }
            parts += page.parts
            algorithm = algorithm ?? page.checksumAlgorithm
            for part in page.parts {
                let (sum, overflow) = covered.addingReportingOverflow(part.size)
                covered = overflow ? .max : sum
            }
            if let bytes, covered >= bytes { return (parts, algorithm) }
            guard page.isTruncated, let next = page.nextMarker else { return (parts, algorithm) }
            marker = next
        }
    }

    /// Calls `visit` with each upload in progress under a prefix, following the key and upload-id
    /// markers from page to page, until it returns `false`.
    ///
    /// - Parameters:
    ///   - prefix: The object keys to list; the store's key prefix by default.
    ///   - visit: Called with each upload; returns whether to go on.
    /// - Throws: `ExportError` when S3 fails or answers unreadably, or `visit`'s error.
    func forEachUpload(prefix: String? = nil, _ visit: (S3ListedUpload) async throws -> Bool) async throws {
        var keyMarker: String?
        var uploadMarker: String?
        repeat {
            var query: [(String, String)] = [("uploads", ""), ("prefix", prefix ?? configuration.keyPrefix)]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let uploadMarker { query.append(("upload-id-marker", uploadMarker)) }
            let (endpoint, path) = location(nil)
            let response = try await client.send(method: "GET", endpoint: endpoint, path: path, query: query, contentHashHeader: true)
            guard response.isSuccess else { throw client.xmlError(response, operation: "ListMultipartUploads") }
            guard let document = XMLNode.parse(response.body) else {
                throw ExportError(.corruptData, "ListMultipartUploads answered with unreadable XML")
            }
            for upload in document.children("Upload") {
                guard let objectKey = upload.value("Key"), let uploadID = upload.value("UploadId") else { continue }
                let listed = S3ListedUpload(
                    objectKey: objectKey, uploadID: uploadID, initiated: upload.value("Initiated").flatMap(Self.parseDate)
                )
                guard try await visit(listed) else { return }
            }
            let truncated = document.value("IsTruncated") == "true"
            keyMarker = truncated ? document.value("NextKeyMarker") : nil
            uploadMarker = truncated ? document.value("NextUploadIdMarker") : nil
        } while keyMarker != nil
    }

    /// The bare service code of a failed XML answer (`NoSuchUpload`), or `nil`.
    static func serviceCode(_ response: TransportResponse) -> String? {
        let document = XMLNode.parse(response.body)
        return (document?.first("Error") ?? document)?.first("Code")?.text
    }
}
