import ExportCore
import Foundation

/// A JSON document as a value: what the AWS JSON protocols and host APIs exchange.
///
/// Numbers are `Double`; DynamoDB numbers travel as strings, so no precision is lost where it matters.
public enum JSONValue: Hashable, Sendable, Codable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])

    /// Creates a string value.
    ///
    /// - Parameters:
    ///   - value: The string.
    public init(stringLiteral value: String) { self = .string(value) }

    /// Creates a number value.
    ///
    /// - Parameters:
    ///   - value: The integer.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }

    /// Creates a Boolean value.
    ///
    /// - Parameters:
    ///   - value: The Boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    /// Creates an array value.
    ///
    /// - Parameters:
    ///   - elements: The elements.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }

    /// Creates an object value.
    ///
    /// - Parameters:
    ///   - elements: The members.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object: [String: JSONValue] = [:]
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }

    /// Decodes any JSON value.
    ///
    /// - Parameters:
    ///   - decoder: The decoder.
    /// - Throws: A decoding error when the input is not JSON.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Encodes the value.
    ///
    /// - Parameters:
    ///   - encoder: The encoder.
    /// - Throws: An encoding error (for a non-finite number).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 9e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// A member of an object, or `nil`.
    ///
    /// - Parameters:
    ///   - key: The member name.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The string, or `nil` for other kinds.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number, or `nil` for other kinds.
    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The elements, or `nil` for other kinds.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, or `nil` for other kinds.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Parses JSON bytes.
    ///
    /// - Parameters:
    ///   - bytes: The document.
    /// - Returns: The value.
    /// - Throws: `ExportError.Code.corruptData` when the bytes are not JSON.
    public static func parse(_ bytes: [UInt8]) throws(ExportError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw ExportError(.corruptData, "The response is not valid JSON: \(String(decoding: bytes.prefix(200), as: UTF8.self))", cause: error)
        }
    }

    /// The value as compact JSON bytes, keys sorted.
    ///
    /// - Returns: The serialized document.
    public func serialized() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? [UInt8](encoder.encode(self))) ?? Array("null".utf8)
    }
}
