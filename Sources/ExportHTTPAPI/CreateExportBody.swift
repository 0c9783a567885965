import ExportCore
import Foundation

/// The optional JSON body of `POST /exports` (`#/components/schemas/CreateExport`): strict, so a typo
/// in a field name is an error rather than a silently ignored option.
struct CreateExportBody: Decodable, Sendable {
    var format: String?
    var columns: [String]?
    /// `range: {"from": …, "to": …}`: memberships active within `[from, to)`.
    var range: ExportTimeRange?

    /// Why a body was rejected: the field (or `nil` for the document as a whole) and what is wrong.
    struct Rejection: Error, Sendable {
        var field: String?
        var reason: String
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private static let fields: Set<String> = ["format", "columns", "range"]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !Self.fields.contains($0) }) {
            throw Rejection(field: String(unknown.prefix(64)), reason: "unknown field; allowed fields are format, columns and range")
        }
        format = try container.decodeIfPresent(String.self, forKey: AnyKey(stringValue: "format"))
        columns = try container.decodeIfPresent([String].self, forKey: AnyKey(stringValue: "columns"))
        if let bounds = try? container.decodeIfPresent([String: String?].self, forKey: AnyKey(stringValue: "range")) {
            if let unknown = bounds.keys.sorted().first(where: { $0 != "from" && $0 != "to" }) {
                throw Rejection(field: "range", reason: "unknown field \(String(reflecting: String(unknown.prefix(40)))); range takes from and to")
            }
            func date(_ name: String) throws(Rejection) -> Date? {
                guard let text = bounds[name] ?? nil else { return nil }
                do { return try RFC3339.parse(text) } catch { throw Rejection(field: "range", reason: "range.\(name) must be an RFC 3339 date-time") }
            }
            do {
                range = try ExportTimeRange(from: try date("from"), to: try date("to"))
            } catch let rejection as Rejection {
                throw rejection
            } catch {
                throw Rejection(field: "range", reason: (error as? ExportError)?.message ?? "invalid range")
            }
        } else if container.contains(AnyKey(stringValue: "range")), (try? container.decodeNil(forKey: AnyKey(stringValue: "range"))) != true {
            throw Rejection(field: "range", reason: "must be an object with from and to")
        }
    }

    /// Parses a body; an empty body means every default.
    ///
    /// - Throws: ``Rejection`` naming the field for malformed JSON, a non-object document, an unknown
    ///   field or a value of the wrong type.
    static func parse(_ body: [UInt8]) throws(Rejection) -> CreateExportBody {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            return CreateExportBody(format: nil, columns: nil, range: nil)
        }
        do {
            return try JSONDecoder().decode(CreateExportBody.self, from: Data(body))
        } catch let rejection as Rejection {
            throw rejection
        } catch let error as DecodingError {
            throw rejection(for: error)
        } catch {
            throw Rejection(field: nil, reason: "the body is not valid JSON")
        }
    }

    private init(format: String?, columns: [String]?, range: ExportTimeRange?) {
        self.format = format
        self.columns = columns
        self.range = range
    }

    private static func rejection(for error: DecodingError) -> Rejection {
        switch error {
        case .typeMismatch(_, let context):
            guard let field = fieldName(context.codingPath) else {
                return Rejection(field: nil, reason: "the body must be a JSON object")
            }
            return Rejection(field: field, reason: field == "format" ? "must be a string" : "must be an array of strings")
        case .valueNotFound(_, let context):
            return Rejection(field: fieldName(context.codingPath), reason: "must not be null")
        case .keyNotFound(let key, _):
            return Rejection(field: key.stringValue, reason: "is required")
        case .dataCorrupted(let context):
            if let field = fieldName(context.codingPath) { return Rejection(field: field, reason: "has an invalid value") }
            return Rejection(field: nil, reason: "the body is not valid JSON")
        @unknown default:
            return Rejection(field: nil, reason: "the body is not valid JSON")
        }
    }

    private static func fieldName(_ path: [any CodingKey]) -> String? {
        guard let first = path.first else { return nil }
        return String(first.stringValue.prefix(64))
    }
}
