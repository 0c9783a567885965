import ExportCore
import Foundation
import Synchronization

/// The writes this store started (or resumed) and has not finished, aborted or suspended, with when
/// they started.
///
/// ``S3BlobStore/abortIncompleteWrites(startedBefore:)`` uses it to abort this process's own abandoned
/// writes by their real start time (including those that have not sent a part yet, and so exist only
/// here), and to leave alone uploads that belong to live local writes, whatever the `Initiated` time
/// S3 reports for them (S3-compatible servers do not all report it faithfully). A suspended write
/// leaves it: its upload waits for a resume, and the sweep judges it by its parts' age like any upload
/// no live writer holds.
final class S3WriteRegistry: Sendable {
    private struct Entry {
        var startedAt: Date
        var writer: S3BlobWriter
        var uploadID: String?
    }

    private let entries = Mutex<[UUID: Entry]>([:])

    func register(_ id: UUID, startedAt: Date, writer: S3BlobWriter) {
        entries.withLock { $0[id] = Entry(startedAt: startedAt, writer: writer) }
    }

    /// Registers a resumed writer of `uploadID` unless a live writer already holds that upload, in one
    /// step, so two resumes in this process never both get it.
    ///
    /// - Returns: `false` when another live writer holds the upload (nothing is registered).
    func claim(_ id: UUID, startedAt: Date, writer: S3BlobWriter, uploadID: String) -> Bool {
        entries.withLock { entries in
            guard !entries.values.contains(where: { $0.uploadID == uploadID }) else { return false }
            entries[id] = Entry(startedAt: startedAt, writer: writer, uploadID: uploadID)
            return true
        }
    }

    func setUpload(_ id: UUID, uploadID: String) {
        entries.withLock { $0[id]?.uploadID = uploadID }
    }

    func remove(_ id: UUID) {
        entries.withLock { _ = $0.removeValue(forKey: id) }
    }

    /// Removes and returns the writers started before `date`, with their upload ids.
    func takeStarted(before date: Date) -> [(writer: S3BlobWriter, uploadID: String?)] {
        entries.withLock { entries in
            let due = entries.filter { $0.value.startedAt < date }
            for id in due.keys { entries.removeValue(forKey: id) }
            return due.values.map { ($0.writer, $0.uploadID) }
        }
    }

    /// The upload ids of live local writers.
    var liveUploadIDs: Set<String> {
        entries.withLock { Set($0.values.compactMap(\.uploadID)) }
    }
}
