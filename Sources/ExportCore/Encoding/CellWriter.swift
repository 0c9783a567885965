import Foundation

/// Writes the cells of a row, one call per column, in column order (the encoders conform).
protocol CellWriter {
    /// Writes a text cell.
    func text(_ text: String, column: Int, into buffer: inout OutputBuffer) throws(CellFailure)
    /// Writes a date cell.
    func date(_ date: Date, column: Int, into buffer: inout OutputBuffer) throws(CellFailure)
    /// Writes a decimal cell.
    func decimal(_ decimal: ExactDecimal, column: Int, into buffer: inout OutputBuffer)
    /// Writes a missing value.
    func null(column: Int, into buffer: inout OutputBuffer)
}
