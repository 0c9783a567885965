import CZlib
import ExportCore
import Foundation

/// The checksums S3 checks on arrival, as its headers and XML carry them.
enum S3Checksum {
    /// The CRC-32 of `bytes` (zlib's, the IEEE 802.3 polynomial), big-endian and base64-encoded, as
    /// `x-amz-checksum-crc32` and `ChecksumCRC32` carry it.
    static func crc32Base64(_ bytes: [UInt8]) -> String {
        let value = bytes.withUnsafeBufferPointer { buffer -> UInt32 in
            var crc: uLong = CZlib.crc32(0, nil, 0)
            var offset = 0
            while offset < buffer.count {
                let length = min(buffer.count - offset, Int(UInt32.max >> 1))
                crc = CZlib.crc32(crc, buffer.baseAddress! + offset, uInt(length))
                offset += length
            }
            return UInt32(truncatingIfNeeded: crc)
        }
        let bigEndian = [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
        return Data(bigEndian).base64EncodedString()
    }

    /// The headers that send `bytes`' checksum: the value, and the algorithm's name as the AWS SDKs
    /// send it (S3-compatible servers such as moto read the algorithm from it).
    static func headers(_ algorithm: S3BlobStore.Configuration.ChecksumAlgorithm?, of bytes: [UInt8]) -> [(name: String, value: String)] {
        guard let algorithm else { return [] }
        switch algorithm {
        case .crc32: return [("x-amz-checksum-crc32", crc32Base64(bytes)), ("x-amz-sdk-checksum-algorithm", algorithm.rawValue)]
        }
    }
}
