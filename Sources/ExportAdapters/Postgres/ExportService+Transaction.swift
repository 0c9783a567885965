import ExportCore

extension ExportService {
    /// Accepts a request inside the host's transaction: the job is recorded and queued by statements of
    /// `transaction`, so the export exists if and only if the transaction commits.
    ///
    /// The service must run on Postgres adapters (``PostgresBackend/ports``) on the database of
    /// `transaction`. For the duration of the call, every Postgres adapter on the current task runs its
    /// statements in `transaction`; the events (`export.accepted`) are emitted before the host commits,
    /// so a rolled-back request still shows up in the host's logs. The transaction must be READ COMMITTED
    /// or stronger; under SERIALIZABLE, retry the host's transaction on a serialization failure as usual.
    ///
    /// ```swift
    /// let ticket = try await database.withTransaction { transaction in
    ///     _ = try await transaction.execute(.init("UPDATE plans SET tier = $1 WHERE user_id = $2", ["pro", user]))
    ///     return try await service.request(request, in: transaction)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - transaction: The executor of the host's open transaction.
    /// - Returns: The ticket of the new or existing job (an existing one is found in the transaction's view).
    /// - Throws: What `ExportService.request(_:)` throws; `ExportError.Code.configuration`
    ///   when the service's job store is not a Postgres adapter, so nothing ran in the transaction.
    public func request(_ request: ExportRequest, in transaction: any ExportSQLExecutor) async throws -> ExportTicket {
        let bound = BoundTransaction(transaction)
        let ticket = try await SQLSession.$boundTransaction.withValue(bound) {
            try await self.request(request)
        }
        guard bound.statements > 0 else {
            throw ExportError(
                .configuration,
                "request(_:in:) needs an ExportService built on PostgresBackend ports; this service's job store ran nothing in the transaction")
        }
        return ticket
    }
}
