import Foundation

/// A column of the exported file: one of the standard ``Membership`` fields, or a host attribute.
///
/// Columns are values, not an enum, so hosts can add attribute columns by name:
/// `[.membershipID, .organizationName, .attribute("seat_count")]`.
public struct ExportColumn: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Which ``Membership`` field a standard column reads.
    public enum Field: String, Hashable, Sendable, CaseIterable {
        case membershipID = "membership_id"
        case userID = "user_id"
        case organizationID = "organization_id"
        case organizationName = "organization_name"
        case plan, role, status
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case renewsAt = "renews_at"
        case amount, currency
    }

    /// Where the column's value comes from.
    public enum Source: Hashable, Sendable {
        /// A standard ``Membership`` field.
        case field(Field)
        /// The host attribute of this name in ``Membership/attributes``.
        case attribute(String)
    }

    /// The header name written in the file.
    public let name: String
    /// Where the value comes from.
    public let source: Source

    private init(name: String, source: Source) {
        self.name = name
        self.source = source
    }

    /// A standard column.
    ///
    /// - Parameters:
    ///   - field: The ``Membership`` field to read.
    /// - Returns: The column, named after the field in snake case.
    public static func field(_ field: Field) -> ExportColumn { ExportColumn(name: field.rawValue, source: .field(field)) }

    /// A host attribute column, read from ``Membership/attributes``; a missing attribute is an empty cell.
    ///
    /// - Parameters:
    ///   - name: The attribute's name, also the header.
    /// - Returns: The column.
    public static func attribute(_ name: String) -> ExportColumn { ExportColumn(name: name, source: .attribute(name)) }

    /// `membership_id`.
    public static let membershipID = field(.membershipID)
    /// `user_id`.
    public static let userID = field(.userID)
    /// `organization_id`.
    public static let organizationID = field(.organizationID)
    /// `organization_name`.
    public static let organizationName = field(.organizationName)
    /// `plan`.
    public static let plan = field(.plan)
    /// `role`.
    public static let role = field(.role)
    /// `status`.
    public static let status = field(.status)
    /// `started_at`, ISO-8601 in UTC.
    public static let startedAt = field(.startedAt)
    /// `ended_at`, ISO-8601 in UTC, empty when the membership is ongoing.
    public static let endedAt = field(.endedAt)
    /// `renews_at`, ISO-8601 in UTC, empty when it does not renew.
    public static let renewsAt = field(.renewsAt)
    /// `amount`, an exact decimal.
    public static let amount = field(.amount)
    /// `currency`, ISO 4217.
    public static let currency = field(.currency)

    /// Every standard column, in the default order.
    public static let standard: [ExportColumn] = Field.allCases.map(field)

    /// The column's value in a row.
    ///
    /// - Parameters:
    ///   - membership: The row.
    /// - Returns: The typed cell value; ``CellValue/null`` for absent optional values.
    public func value(in membership: Membership) -> CellValue {
        switch source {
        case .attribute(let name): return membership.attributes[name].map(CellValue.text) ?? .null
        case .field(let field):
            switch field {
            case .membershipID: return .text(membership.membershipID)
            case .userID: return .text(membership.userID.rawValue)
            case .organizationID: return .text(membership.organizationID)
            case .organizationName: return .text(membership.organizationName)
            case .plan: return .text(membership.plan)
            case .role: return .text(membership.role)
            case .status: return .text(membership.status)
            case .startedAt: return .date(membership.startedAt)
            case .endedAt: return membership.endedAt.map(CellValue.date) ?? .null
            case .renewsAt: return membership.renewsAt.map(CellValue.date) ?? .null
            case .amount: return membership.amount.map(CellValue.decimal) ?? .null
            case .currency: return membership.currency.map(CellValue.text) ?? .null
            }
        }
    }

    /// The header name.
    public var description: String { name }

    /// Decodes a column from its name: a standard field's name, or any other
    /// name, which is taken as an attribute.
    ///
    /// - Parameters:
    ///   - decoder: The decoder to read from.
    /// - Throws: A decoding error when the value is not a string.
    public init(from decoder: any Decoder) throws {
        self = ExportColumn(named: try decoder.singleValueContainer().decode(String.self))
    }

    /// Looks a column up by its header name: a standard field if one has that name, else an attribute.
    ///
    /// - Parameters:
    ///   - name: The header name.
    public init(named name: String) {
        if let field = Field(rawValue: name) { self = .field(field) } else { self = .attribute(name) }
    }

    /// Encodes the header name.
    ///
    /// - Parameters:
    ///   - encoder: The encoder to write to.
    /// - Throws: An encoding error from `encoder`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

/// A typed cell value, as the encoders see it.
public enum CellValue: Hashable, Sendable {
    /// Text, written as it is (quoted or escaped as the format needs).
    case text(String)
    /// A whole number.
    case integer(Int64)
    /// An exact decimal.
    case decimal(ExactDecimal)
    /// A point in time, written as ISO-8601 UTC.
    case date(Date)
    /// A boolean.
    case bool(Bool)
    /// No value: an empty CSV cell, a JSON `null`.
    case null
}
