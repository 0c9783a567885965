extension RowEncoder {
    /// Appends what comes before the first row to a byte array (a convenience for tests and small
    /// outputs; ``ChunkedEncoder`` uses ``OutputBuffer``).
    ///
    /// - Parameters:
    ///   - bytes: The array to append to.
    /// - Throws: ``ExportError/Code/encoding`` when the header cannot be written in this format.
    public mutating func writeHeader(into bytes: inout [UInt8]) throws(ExportError) {
        var buffer = OutputBuffer(minimumCapacity: 256)
        try writeHeader(into: &buffer)
        buffer.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// Appends one row to a byte array.
    ///
    /// - Parameters:
    ///   - row: The row.
    ///   - rowNumber: The row's number, counted from 1, for error messages.
    ///   - bytes: The array to append to.
    /// - Throws: ``ExportError/Code/encoding`` naming the row and column when a value cannot be carried.
    public mutating func write(_ row: Membership, rowNumber: Int64, into bytes: inout [UInt8]) throws(ExportError) {
        var buffer = OutputBuffer(minimumCapacity: 256)
        try write(row, rowNumber: rowNumber, into: &buffer)
        buffer.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// Appends what comes after the last row to a byte array.
    ///
    /// - Parameters:
    ///   - bytes: The array to append to.
    /// - Throws: ``ExportError/Code/encoding`` when the trailer cannot be written.
    public mutating func writeTrailer(into bytes: inout [UInt8]) throws(ExportError) {
        var buffer = OutputBuffer(minimumCapacity: 256)
        try writeTrailer(into: &buffer)
        buffer.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
}
