/// The host's side of PostgreSQL's `LISTEN`, for waking queue receivers at once instead of polling.
///
/// One method, written with the driver the host already has. With postgres-nio:
///
/// ```swift
/// struct NIOListener: ExportSQLListener {
///     let client: PostgresClient
///     func listen(
///         on channel: String, onListening: @escaping @Sendable () -> Void, onNotification: @escaping @Sendable (String) -> Void
///     ) async throws {
///         try await client.withConnection { connection in
///             try await connection.listen(on: channel) { notifications in
///                 onListening()
///                 for try await notification in notifications { onNotification(notification.payload) }
///             }
///         }
///     }
/// }
/// ```
///
/// ## Implementation requirements
/// - Run `LISTEN` for `channel` on a connection of its own (one a pool does not lend to other statements
///   meanwhile), call `onListening` once the server has acknowledged the `LISTEN`, then `onNotification`
///   with each notification's payload, in order, as they arrive.
/// - Keep listening until the calling task is cancelled, then stop listening and return (or throw
///   `CancellationError`); when the connection fails, throw. ``PostgresWakeUps/run(retryAfter:onFailure:)`` listens
///   again after a pause, and receivers poll meanwhile, so a lost connection delays messages, never loses them.
/// - `channel` is an identifier the library made (letters, digits and `_`); pass it to the driver as it is.
public protocol ExportSQLListener: Sendable {
    /// Listens on `channel` until cancelled, calling `onNotification` with each payload.
    ///
    /// - Parameters:
    ///   - channel: The channel name.
    ///   - onListening: Called once the `LISTEN` is in effect.
    ///   - onNotification: Called once per notification, with its payload.
    /// - Throws: The driver's error when the connection fails; `CancellationError` (or nothing) when cancelled.
    func listen(
        on channel: String, onListening: @escaping @Sendable () -> Void, onNotification: @escaping @Sendable (String) -> Void
    ) async throws
}
