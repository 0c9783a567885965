import Foundation

extension RFC3339 {
    /// A `JSONEncoder` date strategy that writes RFC 3339 UTC strings, such as
    /// `"2026-01-01T09:30:00.123456000Z"`.
    ///
    /// The library's stored records (job records, queue spool files and dead letters, the DynamoDB
    /// `job` attribute) use it with 9 digits: a `Date` is a `Double` of seconds since 2001, whose
    /// resolution is finer than a microsecond for today's dates, so nanoseconds read back to the same
    /// `Date` (except within 194 days of 2001-01-01, where a `Double` is finer than a nanosecond and
    /// the nearest nanosecond comes back).
    ///
    /// - Parameters:
    ///   - fractionDigits: Digits after the seconds, 0 to 9.
    /// - Returns: The strategy; encoding a date outside the years 0000…9999 throws `EncodingError`.
    public static func encodingStrategy(fractionDigits: Int = maximumFractionDigits) -> JSONEncoder.DateEncodingStrategy {
        .custom { date, encoder in
            guard let text = string(date, fractionDigits: fractionDigits) else {
                throw EncodingError.invalidValue(
                    date,
                    EncodingError.Context(
                        codingPath: encoder.codingPath,
                        debugDescription: "the date \(date.timeIntervalSince1970) s since 1970 is outside the years 0000 to 9999"))
            }
            var container = encoder.singleValueContainer()
            try container.encode(text)
        }
    }

    /// How ``decodingStrategy(numbers:)`` reads a JSON number in place of an RFC 3339 string.
    public struct LegacyNumbers: Hashable, Sendable {
        fileprivate enum Kind: Hashable, Sendable { case refuse, sinceReferenceDate, since1970 }
        fileprivate let kind: Kind

        /// Numbers are refused: only RFC 3339 strings are dates.
        public static let refuse = LegacyNumbers(kind: .refuse)
        /// Seconds since 2001-01-01T00:00:00Z: what `JSONEncoder`'s default strategy wrote (the records of
        /// versions before RFC 3339).
        public static let sinceReferenceDate = LegacyNumbers(kind: .sinceReferenceDate)
        /// Seconds since 1970-01-01T00:00:00Z (Unix time).
        public static let since1970 = LegacyNumbers(kind: .since1970)
    }

    /// A `JSONDecoder` date strategy that reads RFC 3339 strings strictly (see ``parse(_:)``) and, as
    /// `numbers` says, finite JSON numbers.
    ///
    /// - Parameters:
    ///   - numbers: What a number means; ``LegacyNumbers/sinceReferenceDate`` reads the records
    ///     earlier versions wrote with `JSONEncoder`'s default strategy.
    /// - Returns: The strategy; a bad date throws `DecodingError.dataCorrupted` whose description
    ///   carries the ``ParseError``.
    public static func decodingStrategy(numbers: LegacyNumbers = .refuse) -> JSONDecoder.DateDecodingStrategy {
        .custom { decoder in
            let container = try decoder.singleValueContainer()
            if numbers != .refuse, let seconds = try? container.decode(Double.self) {
                guard seconds.isFinite else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "the date is not a finite number")
                }
                return numbers.kind == .since1970 ? Date(timeIntervalSince1970: seconds) : Date(timeIntervalSinceReferenceDate: seconds)
            }
            let text = try container.decode(String.self)
            do {
                return try parse(text)
            } catch {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "not an RFC 3339 date-time (\(error)): \(text.prefix(40).debugDescription)")
            }
        }
    }

    /// A `JSONEncoder` for the library's stored records: sorted keys, dates as RFC 3339 with 9 digits.
    ///
    /// A date no four-digit year can hold (a lease of `Duration.seconds(Int64.max)`, which the queues
    /// clamp but accept) is written as the number of seconds since 2001 that earlier versions wrote for
    /// every date, which ``recordDecoder()`` reads; a record is never refused for its date.
    package static func recordEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            if let text = string(date, fractionDigits: maximumFractionDigits) {
                try container.encode(text)
            } else {
                try container.encode(date.timeIntervalSinceReferenceDate)
            }
        }
        return encoder
    }

    /// A `JSONDecoder` for the library's stored records: RFC 3339 strings, and the numbers (seconds
    /// since 2001) that versions before RFC 3339 wrote.
    package static func recordDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = decodingStrategy(numbers: .sinceReferenceDate)
        return decoder
    }
}
