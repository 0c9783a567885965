import ExportPostgres
import PostgresNIO

// docs:begin postgres-listener
/// ExportPostgres's `LISTEN` port on postgres-nio: one pooled connection held for as long as it listens.
public struct PostgresNIOListener: ExportSQLListener {
    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    public func listen(
        on channel: String, onListening: @escaping @Sendable () -> Void, onNotification: @escaping @Sendable (String) -> Void
    ) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: channel) { notifications in
                onListening()
                for try await notification in notifications { onNotification(notification.payload) }
            }
        }
    }
}
// docs:end postgres-listener
