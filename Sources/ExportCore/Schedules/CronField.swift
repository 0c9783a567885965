/// One field of a ``ExportCronExpression``: its name, its range and its value names.
struct CronField: Sendable {
    let name: String
    let range: ClosedRange<Int>
    let names: [String: Int]

    static let minute = CronField(name: "minute", range: 0...59, names: [:])
    static let hour = CronField(name: "hour", range: 0...23, names: [:])
    static let dayOfMonth = CronField(name: "day-of-month", range: 1...31, names: [:])
    static let month = CronField(
        name: "month", range: 1...12,
        names: ["JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12])
    static let dayOfWeek = CronField(
        name: "day-of-week", range: 0...7, names: ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6])

    /// The set of values as a bit mask (bit `n` for value `n`).
    ///
    /// - Parameters:
    ///   - text: The field as written.
    /// - Returns: The mask.
    /// - Throws: ``ExportError/Code/invalidSchedule`` naming this field.
    func parse(_ text: String) throws(ExportError) -> UInt64 {
        var mask: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            mask |= try parseItem(String(item), in: text)
        }
        return mask
    }

    private func failure(_ text: String, _ problem: String) -> ExportError {
        ExportError(.invalidSchedule, "cron \(name) field \(String(reflecting: String(text.prefix(40)))): \(problem)")
    }

    private func parseItem(_ item: String, in field: String) throws(ExportError) -> UInt64 {
        guard !item.isEmpty else { throw failure(field, "has an empty list item") }
        let parts = item.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else { throw failure(field, "has more than one step in \(String(reflecting: item))") }
        var step = 1
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 1 else {
                throw failure(field, "step \(String(reflecting: parts[1])) must be a whole number of at least 1")
            }
            guard value <= range.upperBound - range.lowerBound + 1 else {
                throw failure(field, "step \(value) is larger than the field's range \(range.lowerBound)-\(range.upperBound)")
            }
            step = value
        }
        let base = parts[0]
        let low: Int
        let high: Int
        if base == "*" {
            (low, high) = (range.lowerBound, name == "day-of-week" ? 6 : range.upperBound)
        } else if let dash = base.firstIndex(of: "-") {
            low = try value(String(base[..<dash]), in: field)
            high = try value(String(base[base.index(after: dash)...]), in: field)
            guard low <= high else { throw failure(field, "range \(base) runs backwards") }
        } else {
            low = try value(base, in: field)
            high = parts.count == 2 ? range.upperBound : low  // `a/n`: from a to the end
        }
        var mask: UInt64 = 0
        for value in stride(from: low, through: high, by: step) { mask |= 1 << UInt64(value) }
        return mask
    }

    private func value(_ text: String, in field: String) throws(ExportError) -> Int {
        if let number = Int(text), text.allSatisfy(\.isASCII) {
            guard range.contains(number) else {
                throw failure(field, "\(number) is outside \(range.lowerBound)-\(range.upperBound)")
            }
            return number
        }
        if let named = names[text.uppercased()] { return named }
        if text.uppercased().contains("L") || text.contains("#") || text.contains("?") || text.uppercased().contains("W") {
            throw failure(field, "\(String(reflecting: text)) is not standard cron (L, W, # and ? are not supported)")
        }
        let hint = names.isEmpty ? "" : " or a name such as \(names.min { $0.value < $1.value }!.key)"
        throw failure(field, "\(String(reflecting: String(text.prefix(20)))) is not a number\(hint)")
    }
}
