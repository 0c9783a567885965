import ExportCore

extension ExportAPIHandler {
    /// Checks the body's format and columns with the service's rules (its configuration, the public
    /// format and column types) before anything is looked up, so a bad request is answered `400` even
    /// while the host's user directory is down. ``ExportService/request(_:)`` checks again and stays
    /// the authority; this mirrors it and answers with the same messages.
    ///
    /// - Parameters:
    ///   - body: The parsed body.
    /// - Returns: The `400` response, or `nil` when the body is valid.
    func validationProblem(_ body: CreateExportBody) -> APIResponse? {
        if let identifier = body.format {
            guard let format = ExportFormat(identifier: identifier), format.isSupported else {
                let supported = ExportFormat.all.filter(\.isSupported).map(\.identifier).joined(separator: ", ")
                return problem(
                    .unsupportedFormat,
                    "format \(String(reflecting: String(identifier.prefix(40)))) is not supported; use one of: \(supported)",
                    field: "format")
            }
        }
        guard let names = body.columns else { return nil }
        guard !names.isEmpty else { return problem(.unknownColumn, "columns must name at least one column", field: "columns") }
        var seen = Set<String>()
        for name in names {
            if case .attribute = ExportColumn(named: name).source, !service.configuration.attributeColumns.contains(name) {
                return problem(.unknownColumn, "unknown column \(String(reflecting: String(name.prefix(64))))", field: "columns")
            }
            guard seen.insert(name).inserted else {
                return problem(.unknownColumn, "column \(String(reflecting: String(name.prefix(64)))) is listed twice", field: "columns")
            }
        }
        return nil
    }

    /// The caller's active (not yet terminal) export, found the way the service de-duplicates.
    ///
    /// - Parameters:
    ///   - user: The caller.
    /// - Returns: The active export, or `nil`.
    /// - Throws: The job store's error.
    func activeExport(of user: UserID) async throws -> ExportJob? {
        let limit = max(1, service.configuration.rateLimit?.maxRequests ?? 1)
        return try await service.list(requester: user, after: nil, limit: limit).items.first { !$0.state.isTerminal }
    }
}
