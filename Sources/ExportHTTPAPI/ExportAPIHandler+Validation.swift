import ExportCore

extension ExportAPIHandler {
    /// Checks the body's format and columns with the service's own rules
    /// (`ExportService.options(format:columns:)`) before anything is looked up, so a bad request is
    /// answered `400` even while the host's user directory is down.
    ///
    /// - Parameters:
    ///   - body: The parsed body.
    /// - Returns: The `400` response, or `nil` when the body is valid.
    func validationProblem(_ body: CreateExportBody) -> APIResponse? {
        do {
            _ = try service.options(format: body.format, columns: body.columns)
            return nil
        } catch {
            return error.code == .unsupportedFormat
                ? problem(.unsupportedFormat, error.message, field: "format")
                : problem(.unknownColumn, error.message, field: "columns")
        }
    }
}
