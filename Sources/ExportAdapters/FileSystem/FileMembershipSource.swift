import ExportCore
import Foundation

/// A `MembershipSource` over a file of memberships (CSV or JSON Lines), for demos and imports.
///
/// The file is read and indexed once, at init: rows are grouped by owner and sorted by
/// `Membership.membershipID`, and pages are served from memory by binary search on the cursor (the
/// last row's membership id), so paging is keyset paging as the port requires. Memory is proportional
/// to the file (roughly 1 KB per row), which suits demo and import files up to a few hundred thousand
/// rows; for larger data implement `MembershipSource` over the host's database.
///
/// Malformed input fails the init with `ExportError.Code.corruptData` naming the line (a bad value)
/// or `ExportError.Code.invalidRequest` (a bad header, a duplicate membership id for one owner).
public struct FileMembershipSource: MembershipSource {
    private let rowsByOwner: [UserID: [Membership]]

    /// Reads and indexes a file.
    ///
    /// - Parameters:
    ///   - fileURL: The file.
    ///   - format: Its format; guessed from the extension when `nil` (`.jsonl` is JSON Lines, else CSV).
    /// - Throws: `ExportError` naming the line when the file is malformed, or an I/O error.
    public init(fileURL: URL, format: Format? = nil) throws(ExportError) {
        guard let bytes = try POSIXFile.readAll(fileURL.path) else {
            throw ExportError(.notFound, "no membership file at \(fileURL.path)")
        }
        try self.init(bytes: bytes, format: format ?? .guess(fromPath: fileURL.path))
    }

    /// Indexes file content already in memory.
    ///
    /// - Parameters:
    ///   - bytes: The file's content (UTF-8).
    ///   - format: Its format.
    /// - Throws: `ExportError` naming the line when the content is malformed.
    public init(bytes: [UInt8], format: Format) throws(ExportError) {
        let rows = format.isCSV ? try MembershipFileParser.parseCSV(bytes) : try MembershipFileParser.parseJSONLines(bytes)
        var grouped: [UserID: [(line: Int, row: Membership)]] = [:]
        for entry in rows { grouped[entry.row.userID, default: []].append(entry) }
        var index: [UserID: [Membership]] = [:]
        for (owner, entries) in grouped {
            let sorted = entries.sorted { $0.row.membershipID < $1.row.membershipID }
            for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.row.membershipID == next.row.membershipID {
                throw ExportError(
                    .invalidRequest,
                    "line \(next.line): membership id \(next.row.membershipID.prefix(80)) appears twice for user \(owner) (also line \(previous.line))")
            }
            index[owner] = sorted.map(\.row)
        }
        rowsByOwner = index
    }

    /// The number of memberships loaded, all owners together.
    public var count: Int { rowsByOwner.values.reduce(0) { $0 + $1.count } }

    /// The names of the extra (non-standard) columns found in the file, sorted: the columns an export
    /// needs, after `ExportColumn.standard`, to carry every value of the file.
    public var attributeNames: [String] {
        Set(rowsByOwner.values.joined().flatMap(\.attributes.keys)).sorted()
    }

    /// The owners that have at least one membership, sorted.
    public var owners: [UserID] { rowsByOwner.keys.sorted { $0.rawValue < $1.rawValue } }

    /// Reads one page of a user's memberships, ordered by membership id.
    ///
    /// - Parameters:
    ///   - owner: The user whose memberships to read.
    ///   - cursor: The last membership id of the previous page, or `nil` for the first.
    ///   - limit: The most rows to return (at least 1).
    /// - Returns: The rows and the cursor of the next page (`nil` on the last page).
    /// - Throws: Nothing in practice; the file was validated at init.
    public func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int) async throws -> Page<Membership> {
        try await memberships(of: owner, after: cursor, limit: limit, range: nil)
    }

    /// The number of rows an export of `owner` within `range` produces.
    ///
    /// - Parameters:
    ///   - owner: The user.
    ///   - range: The time range, or `nil`.
    /// - Returns: The count.
    public func membershipCount(of owner: UserID, range: ExportTimeRange?) async throws -> Int64? {
        Int64((rowsByOwner[owner] ?? []).count { range?.contains($0) ?? true })
    }

    /// Reads one page of a user's memberships active within `range`, ordered by membership id.
    ///
    /// - Parameters:
    ///   - owner: The user.
    ///   - cursor: The last membership id of the previous page, or `nil`.
    ///   - limit: The most rows (at least 1).
    ///   - range: Only memberships active within it, or `nil` for all.
    /// - Returns: The rows and the cursor of the next page.
    public func memberships(of owner: UserID, after cursor: PageCursor?, limit: Int, range: ExportTimeRange?) async throws -> Page<Membership> {
        let rows = range.map { range in (rowsByOwner[owner] ?? []).filter(range.contains) } ?? (rowsByOwner[owner] ?? [])
        var low = 0
        if let cursor {
            var high = rows.count
            while low < high {
                let middle = (low + high) / 2
                if rows[middle].membershipID <= cursor.token { low = middle + 1 } else { high = middle }
            }
        }
        let end = min(rows.count, low + max(1, limit))
        let page = Array(rows[low..<end])
        let next = end < rows.count ? page.last.map { PageCursor($0.membershipID) } : nil
        return Page(items: page, next: next)
    }
}
