/// The columns, pre-digested for the encoders' hot path: which field each reads, as trivial values,
/// so encoding a row reads the ``Membership`` fields directly instead of copying ``ExportColumn``s and
/// building ``CellValue``s (which costs reference counting per cell).
///
/// The mapping from fields to value kinds must match ``ExportColumn/value(in:)``; the encoder tests
/// check that it does, field by field.
struct ColumnPlan {
    enum Accessor: Hashable {
        case field(ExportColumn.Field)
        /// An index into ``ColumnPlan/attributeNames``.
        case attribute(Int)
    }

    let accessors: [Accessor]
    let attributeNames: [String]

    init(_ columns: [ExportColumn]) {
        var accessors: [Accessor] = []
        var names: [String] = []
        for column in columns {
            switch column.source {
            case .field(let field): accessors.append(.field(field))
            case .attribute(let name):
                accessors.append(.attribute(names.count))
                names.append(name)
            }
        }
        self.accessors = accessors
        self.attributeNames = names
    }
}

extension ColumnPlan {
    /// Hands each cell of `row` to `writer`, reading the fields directly; the same mapping as
    /// ``ExportColumn/value(in:)``.
    @inline(__always)
    func forEachCell<Writer: CellWriter>(of row: Membership, to writer: Writer, into buffer: inout OutputBuffer) throws(CellFailure) {
        var index = 0
        for accessor in accessors {
            switch accessor {
            case .field(let field):
                switch field {
                case .membershipID: try writer.text(row.membershipID, column: index, into: &buffer)
                case .userID: try writer.text(row.userID.rawValue, column: index, into: &buffer)
                case .organizationID: try writer.text(row.organizationID, column: index, into: &buffer)
                case .organizationName: try writer.text(row.organizationName, column: index, into: &buffer)
                case .plan: try writer.text(row.plan, column: index, into: &buffer)
                case .role: try writer.text(row.role, column: index, into: &buffer)
                case .status: try writer.text(row.status, column: index, into: &buffer)
                case .startedAt: try writer.date(row.startedAt, column: index, into: &buffer)
                case .endedAt:
                    if let date = row.endedAt {
                        try writer.date(date, column: index, into: &buffer)
                    } else {
                        writer.null(column: index, into: &buffer)
                    }
                case .renewsAt:
                    if let date = row.renewsAt {
                        try writer.date(date, column: index, into: &buffer)
                    } else {
                        writer.null(column: index, into: &buffer)
                    }
                case .amount:
                    if let amount = row.amount {
                        writer.decimal(amount, column: index, into: &buffer)
                    } else {
                        writer.null(column: index, into: &buffer)
                    }
                case .currency:
                    if let currency = row.currency {
                        try writer.text(currency, column: index, into: &buffer)
                    } else {
                        writer.null(column: index, into: &buffer)
                    }
                }
            case .attribute(let attribute):
                if let value = Self.attribute(attributeNames[attribute], in: row.attributes) {
                    try writer.text(value, column: index, into: &buffer)
                } else {
                    writer.null(column: index, into: &buffer)
                }
            }
            index += 1
        }
    }

    /// `attributes[name]`, by comparing keys when there are only a few: hosts usually carry a handful of
    /// attributes, and comparing short keys is several times cheaper than hashing one.
    @inline(__always)
    static func attribute(_ name: String, in attributes: [String: String]) -> String? {
        guard attributes.count <= 8 else { return attributes[name] }
        for (key, value) in attributes where key == name { return value }
        return nil
    }
}
