import Foundation

/// The stable address of an export's download on the host's public URL, such as
/// `https://app.example.com/api/exports/{id}/download`: what "ready" e-mails carry when
/// ``ExportSettings/downloadAddress`` is set.
///
/// A click reaches the host's own route (`ExportHTTPAPI` serves it as `GET /exports/{id}/download`),
/// which checks the signed-in user and the export's state and answers with a fresh link of minutes
/// (``ExportService/downloadLink(for:requester:expiresIn:)``), or 410 once the export expired or was
/// deleted. So the e-mail holds no storage URL and no credential: it works for as long as the file
/// is kept, whatever the storage credentials' lifetime, and deleting the export revokes it.
public struct DownloadAddress: Hashable, Sendable, CustomStringConvertible {
    /// The template, with `{id}` where the job id goes.
    public let template: String

    /// An address from a template.
    ///
    /// - Parameters:
    ///   - template: An absolute `http` or `https` URL with `{id}` once, in its path.
    /// - Throws: ``ExportError/Code/configuration`` for anything else.
    public init(template: String) throws(ExportError) {
        let parts = template.components(separatedBy: "{id}")
        guard parts.count == 2 else {
            throw ExportError(.configuration, "the download address template must hold {id} exactly once: \(String(reflecting: String(template.prefix(200))))")
        }
        guard let probe = URL(string: parts.joined(separator: "job-probe")), let scheme = probe.scheme?.lowercased(),
              scheme == "https" || scheme == "http", probe.host?.isEmpty == false, probe.path.contains("job-probe"),
              probe.query == nil, probe.fragment == nil
        else {
            throw ExportError(
                .configuration, "the download address template must be an absolute http(s) URL with {id} in its path and no query: \(String(reflecting: String(template.prefix(200))))")
        }
        self.template = template
    }

    /// The address `ExportHTTPAPI` serves under a base URL: `<baseURL>/exports/{id}/download`.
    ///
    /// - Parameters:
    ///   - baseURL: The public URL the handler is mounted at, such as `https://app.example.com/api`.
    /// - Throws: ``ExportError/Code/configuration`` for a URL that is not absolute http(s).
    public init(apiBaseURL baseURL: URL) throws(ExportError) {
        var text = baseURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        try self.init(template: text + "/exports/{id}/download")
    }

    /// The address of one job's download.
    ///
    /// - Parameters:
    ///   - id: The job's id (URL-safe by construction).
    /// - Returns: The URL.
    public func url(for id: JobID) -> URL {
        // The template was checked with a probe id; a job id's characters are all URL-safe.
        URL(string: template.replacingOccurrences(of: "{id}", with: id.rawValue))!
    }

    /// The template.
    public var description: String { template }
}
