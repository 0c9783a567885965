import ExportCore
import Foundation

extension S3BlobStore {
    /// Where and how blobs are stored in S3.
    public struct Configuration: Sendable {
        /// The bucket.
        public var bucket: String
        /// A prefix put before every key (such as `exports/`), so the store owns one "folder".
        public var keyPrefix: String
        /// The size of each uploaded part, at least 5 MiB (S3's minimum for all but the last part).
        public var partSize: Int
        /// How many parts upload at once. A writer holds at most `partSize × (partsInFlight + 1)` bytes
        /// (through ``URLSessionTransport``, which copies each part being sent, `partSize × (2 ×
        /// partsInFlight + 1)` at worst; ``HTTP1Transport`` sends the part's own bytes).
        public var partsInFlight: Int
        /// The size of each ranged GET when reading, which bounds a reader's memory.
        public var readChunkSize: Int
        /// Server-side encryption: `AES256` or `aws:kms`, or `nil` for the bucket's default.
        public var serverSideEncryption: String?
        /// The KMS key for `aws:kms`, or `nil` for the AWS-managed key.
        public var kmsKeyID: String?
        /// Whether uploaded parts are sent as `UNSIGNED-PAYLOAD` instead of hashed into the signature.
        /// Over HTTPS, TLS already protects the body and this saves hashing every byte twice; keep it
        /// `false` over plain HTTP.
        public var unsignedPartPayloads: Bool
        /// The checksum sent with every object and part, which S3 verifies on arrival (rejecting a
        /// part whose bytes changed on the way) and keeps with the object; `nil` sends none.
        ///
        /// For a multipart upload S3 keeps a composite checksum (the checksum of the parts'
        /// checksums), as the AWS SDKs' default integrity protection does.
        public var checksumAlgorithm: ChecksumAlgorithm?

        /// S3's smallest part (5 MiB).
        public static let minimumPartSize = 5 * 1024 * 1024
        /// S3's longest presigned URL lifetime (7 days).
        public static let maximumLinkLifetime: Duration = .seconds(604_800)

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - bucket: The bucket.
        ///   - keyPrefix: A prefix for every key; empty by default.
        ///   - partSize: The part size; 8 MiB by default, at least 5 MiB.
        ///   - partsInFlight: Concurrent part uploads; 4 by default (40 MiB per writer with 8 MiB parts).
        ///   - readChunkSize: Bytes per ranged GET when reading; 4 MiB by default.
        ///   - serverSideEncryption: `AES256`, `aws:kms` or `nil`.
        ///   - kmsKeyID: The KMS key for `aws:kms`.
        ///   - unsignedPartPayloads: Send parts as `UNSIGNED-PAYLOAD`; `false` by default.
        ///   - checksumAlgorithm: The checksum S3 verifies on each object and part; CRC32 by default.
        public init(
            bucket: String,
            keyPrefix: String = "",
            partSize: Int = 8 * 1024 * 1024,
            partsInFlight: Int = 4,
            readChunkSize: Int = 4 * 1024 * 1024,
            serverSideEncryption: String? = nil,
            kmsKeyID: String? = nil,
            unsignedPartPayloads: Bool = false,
            checksumAlgorithm: ChecksumAlgorithm? = .crc32
        ) {
            self.bucket = bucket
            self.keyPrefix = keyPrefix
            self.partSize = partSize
            self.partsInFlight = partsInFlight
            self.readChunkSize = readChunkSize
            self.serverSideEncryption = serverSideEncryption
            self.kmsKeyID = kmsKeyID
            self.unsignedPartPayloads = unsignedPartPayloads
            self.checksumAlgorithm = checksumAlgorithm
        }

        /// A checksum S3 computes over each object and part and checks against the one sent.
        public enum ChecksumAlgorithm: String, Sendable, CaseIterable {
            /// CRC-32 (IEEE 802.3, the one of zlib and gzip), sent base64-encoded in
            /// `x-amz-checksum-crc32`.
            case crc32 = "CRC32"
        }

        func validate() throws(ExportError) {
            guard !bucket.isEmpty, bucket.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) else {
                throw ExportError(.configuration, "The S3 bucket name '\(bucket)' is not valid")
            }
            guard partSize >= Self.minimumPartSize else {
                throw ExportError(.configuration, "The S3 part size must be at least 5 MiB, not \(partSize) bytes")
            }
            guard partsInFlight >= 1, readChunkSize >= 1 else {
                throw ExportError(.configuration, "partsInFlight and readChunkSize must be at least 1")
            }
            if !keyPrefix.isEmpty, BlobKey(keyPrefix + "x") == nil {
                throw ExportError(.configuration, "The key prefix '\(keyPrefix)' must be made of safe key segments")
            }
        }
    }
}
