import ExportCore
import Foundation

/// What every Postgres adapter runs its statements through: the host's executor, or the host's
/// transaction when one is bound to the current task (`ExportService/request(_:in:)`), with the
/// driver's errors wrapped as `ExportError` and the text conversions of dates and numbers.
struct SQLSession: Sendable {
    let executor: any ExportSQLExecutor

    /// The transaction bound to the current task by the transactional request, if any.
    @TaskLocal static var boundTransaction: BoundTransaction?

    /// Runs a statement on the bound transaction when there is one, else on the executor.
    func run(_ sql: String, _ bindings: [String?] = []) async throws -> [ExportSQLRow] {
        let statement = ExportSQLStatement(sql, bindings)
        let target: any ExportSQLExecutor
        if let bound = Self.boundTransaction {
            bound.used()
            target = bound.executor
        } else {
            target = executor
        }
        do {
            return try await target.execute(statement)
        } catch let error as ExportError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ExportError(.unavailable, "PostgreSQL statement failed: \(error)", cause: error)
        }
    }

    // MARK: Text forms of values

    /// A date as PostgreSQL reads it (`$n::timestamptz`): RFC 3339 UTC with microseconds, the
    /// precision of `timestamptz`.
    static func text(_ date: Date) throws(ExportError) -> String {
        guard let text = RFC3339.string(date, fractionDigits: 6) else {
            throw ExportError(.invalidRequest, "the date \(date) is outside the years 0000…9999")
        }
        return text
    }

    /// A duration in seconds with microseconds, for `$n::double precision` or an interval.
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let total = Double(seconds) + Double(attoseconds) / 1e18
        return String(format: "%.6f", max(0, total))
    }

    /// Reads `extract(epoch from …)::text`.
    static func date(epoch text: String?, _ what: String) throws(ExportError) -> Date {
        guard let text, let seconds = Double(text), seconds.isFinite else {
            throw ExportError(.corruptData, "\(what) is not a time: \(String(reflecting: text))")
        }
        return Date(timeIntervalSince1970: seconds)
    }

    static func int(_ text: String?, _ what: String) throws(ExportError) -> Int {
        guard let text, let value = Int(text) else {
            throw ExportError(.corruptData, "\(what) is not an integer: \(String(reflecting: text))")
        }
        return value
    }
}

/// A host transaction bound to a task, counting the statements the adapters ran in it.
final class BoundTransaction: Sendable {
    let executor: any ExportSQLExecutor
    private let count = Counter()

    init(_ executor: any ExportSQLExecutor) { self.executor = executor }

    func used() { count.increment() }
    var statements: Int { count.value }
}
