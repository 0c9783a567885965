import ExportCore
import Foundation

/// The subject, plain text and HTML of a notification e-mail.
struct NotificationEmail: Sendable {
    var subject: String
    var text: String
    var html: String

    init(_ notification: ExportNotification, productName: String) {
        switch notification.content {
        case .ready(let details):
            let expiry = Self.timestamp(details.expiresAt)
            let size = Self.size(details.bytes)
            subject = "Your \(productName) export is ready" + (details.scheduleName.map { ": \($0)" } ?? "")
            let scope = details.scope.map { " \($0)." } ?? ""
            text = """
                Your export is ready: \(details.rows) rows, \(size), \(details.format.identifier).\(scope)

                Download it here (the link works until \(expiry)):
                \(details.link.absoluteString)

                Export \(notification.jobID)
                """
            html = """
                <p>Your export is ready: \(details.rows) rows, \(Self.escape(size)), \(Self.escape(details.format.identifier)).\(Self.escape(scope))</p>\
                <p><a href="\(Self.escape(details.link.absoluteString))">Download your export</a> (the link works until \(Self.escape(expiry))).</p>\
                <p style="color:#666">Export \(Self.escape(notification.jobID.rawValue))</p>
                """
        case .failed(let reason):
            subject = "Your \(productName) export failed"
            text = """
                We could not finish your export: \(reason)

                You can request a new export at any time.

                Export \(notification.jobID)
                """
            html = """
                <p>We could not finish your export: \(Self.escape(reason))</p>\
                <p>You can request a new export at any time.</p>\
                <p style="color:#666">Export \(Self.escape(notification.jobID.rawValue))</p>
                """
        }
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    static func timestamp(_ date: Date) -> String {
        guard let text = RFC3339.string(date) else { return "\(date)" }
        return text.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }

    static func size(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) bytes" }
        if bytes < 1024 * 1024 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        return String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}
