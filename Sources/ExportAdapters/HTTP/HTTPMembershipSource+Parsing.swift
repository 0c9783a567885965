import ExportCore
import Foundation

extension HTTPMembershipSource {
    func parse(_ body: [UInt8], owner: UserID) throws(ExportError) -> Page<Membership> {
        let document: JSONValue
        do {
            document = try JSONValue.parse(body)
        } catch {
            throw ExportError(.corruptData, "The memberships API answered with malformed JSON", cause: error, isRetryable: false)
        }
        guard let rows = Self.value(document, configuration.itemsPath)?.arrayValue else {
            throw ExportError(.corruptData, "The memberships response has no array at '\(configuration.itemsPath)'")
        }
        var memberships: [Membership] = []
        memberships.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            memberships.append(try membership(row, index: index, owner: owner))
        }
        let next: PageCursor?
        switch Self.value(document, configuration.nextCursorPath) {
        case .string(let token) where !token.isEmpty: next = PageCursor(token)
        case .number(let number): next = PageCursor(DynamoDBJobStore.number(number))
        default: next = nil
        }
        return Page(items: memberships, next: next)
    }

    /// What a row does have, and where the mapping is set: the usual cause is an API naming a field
    /// differently (`membership_id` for the default `id`).
    static func mappingHint(_ row: JSONValue) -> String {
        guard case .object(let object) = row else { return "" }
        let keys = object.keys.sorted().prefix(12).joined(separator: ", ")
        return " (its fields: \(keys)\(object.count > 12 ? ", …" : "")); map the field names with "
            + "HTTPMembershipSource.Configuration(fields:) (export-aws-worker: MEMBERSHIPS_FIELD_<COLUMN>)"
    }

    private func membership(_ row: JSONValue, index: Int, owner: UserID) throws(ExportError) -> Membership {
        let fields = configuration.fields
        func required(_ path: String) throws(ExportError) -> String {
            guard let value = Self.text(Self.value(row, path)) else {
                throw ExportError(.corruptData, "Row \(index) of the memberships response lacks '\(path)'" + Self.mappingHint(row))
            }
            return value
        }
        func optional(_ path: String?) -> String? { path.flatMap { Self.text(Self.value(row, $0)) } }
        func date(_ path: String?, required: Bool) throws(ExportError) -> Date? {
            guard let path, let value = Self.value(row, path), value != .null else {
                if required { throw ExportError(.corruptData, "Row \(index) of the memberships response lacks '\(path ?? "")'" + Self.mappingHint(row)) }
                return nil
            }
            if let number = value.numberValue, number.isFinite { return Date(timeIntervalSince1970: number) }
            guard let text = value.stringValue else {
                throw ExportError(.corruptData, "Row \(index): '\(path)' is not an RFC 3339 date-time or epoch seconds")
            }
            do {
                return try RFC3339.parse(text)
            } catch {
                throw ExportError(
                    .corruptData,
                    "Row \(index): '\(path)' \(text.prefix(40).debugDescription) is not an RFC 3339 date-time: \(error)",
                    cause: error, isRetryable: false)
            }
        }
        if let userPath = fields.userID, let user = optional(userPath), user != owner.rawValue {
            throw ExportError(.corruptData, "Row \(index) belongs to another user; the memberships API ignored the owner")
        }
        var amount: ExactDecimal?
        if let text = optional(fields.amount) {
            guard let parsed = ExactDecimal(text) else {
                throw ExportError(.corruptData, "Row \(index): '\(fields.amount ?? "")' is not a decimal amount")
            }
            amount = parsed
        }
        var attributes: [String: String] = [:]
        for (column, path) in fields.attributes { attributes[column] = optional(path) }
        return Membership(
            membershipID: try required(fields.membershipID), userID: owner,
            organizationID: try required(fields.organizationID), organizationName: try required(fields.organizationName),
            plan: try required(fields.plan), role: try required(fields.role), status: try required(fields.status),
            startedAt: try date(fields.startedAt, required: true) ?? Date(timeIntervalSince1970: 0),
            endedAt: try date(fields.endedAt, required: false), renewsAt: try date(fields.renewsAt, required: false),
            amount: amount, currency: optional(fields.currency), attributes: attributes
        )
    }

    /// The value at a dotted path.
    static func value(_ document: JSONValue, _ path: String) -> JSONValue? {
        var current: JSONValue? = document
        for part in path.split(separator: ".") { current = current?[String(part)] }
        return current
    }

    /// Strings as they are, numbers and Booleans as text, anything else `nil`.
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text): text
        case .number(let number): DynamoDBJobStore.number(number)
        case .bool(let flag): flag ? "true" : "false"
        default: nil
        }
    }
}
