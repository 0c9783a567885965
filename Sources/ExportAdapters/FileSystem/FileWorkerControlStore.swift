import ExportCore
import Foundation

/// A `WorkerControlStore` keeping the pause switch in one JSON file, `workers.json`, under a
/// directory: every process that opens the same directory sees the same switch.
///
/// Writes replace the file atomically (temp file in `tmp/`, fsync, rename), so a reader sees the old
/// or the new switch, never a mix; the last write wins. A missing file is `WorkerControl()`.
public final class FileWorkerControlStore: WorkerControlStore {
    let root: String
    var recordPath: String { root + "/workers.json" }
    var temporaryDirectory: String { root + "/tmp" }
    let durability: FileDurability

    /// Opens (creating if needed) a store under a directory.
    ///
    /// - Parameters:
    ///   - directory: The directory; created with its parents when missing.
    ///   - durability: What a write survives; ``FileDurability/powerLoss`` by default.
    /// - Throws: `ExportError` when the directory cannot be created or used.
    public init(directory: URL, durability: FileDurability = .powerLoss) throws(ExportError) {
        root = try POSIXFile.prepareRoot(directory)
        self.durability = durability
        try POSIXFile.makeDirectory(temporaryDirectory, inside: root)
        POSIXFile.removeOrphanedTemporaryFiles(in: temporaryDirectory)
    }

    /// Reads the switch.
    ///
    /// - Returns: The stored switch, or `WorkerControl()` when the file does not exist.
    /// - Throws: `ExportError.Code.corruptData` for an undecodable file; storage errors.
    public func workerControl() async throws -> WorkerControl {
        guard let bytes = try POSIXFile.readAll(recordPath) else { return WorkerControl() }
        do {
            return try RFC3339.recordDecoder().decode(WorkerControl.self, from: Data(bytes))
        } catch {
            throw ExportError(.corruptData, "\(recordPath) is not a worker control record: \(error)", cause: error)
        }
    }

    /// Replaces the switch.
    ///
    /// - Parameters:
    ///   - control: The new switch.
    /// - Throws: `ExportError` when the file cannot be written.
    public func setWorkerControl(_ control: WorkerControl) async throws {
        let bytes: [UInt8]
        do {
            bytes = Array(try RFC3339.recordEncoder().encode(control))
        } catch {
            throw ExportError(.encoding, "the worker control record cannot be encoded: \(error)", cause: error)
        }
        try POSIXFile.writeAtomically(bytes, to: recordPath, temporaryDirectory: temporaryDirectory, durability: durability)
    }
}
