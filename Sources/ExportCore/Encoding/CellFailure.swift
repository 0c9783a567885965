import Foundation

/// Why a cell could not be written; the encoder turns it into an ``ExportError`` naming row and column.
@usableFromInline
struct CellFailure: Error {
    /// The column's index.
    let column: Int
    /// What could not be carried, for the message.
    let what: String

    static func date(_ date: Date, column: Int) -> CellFailure {
        CellFailure(column: column, what: "a date outside the years 0000…9999 (\(date.timeIntervalSince1970) s since 1970)")
    }
}
