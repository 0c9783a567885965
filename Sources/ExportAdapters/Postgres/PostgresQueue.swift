import ExportCore
import Foundation

/// A `Queue` in a PostgreSQL table: the lease is a column, receivers claim with
/// `FOR UPDATE SKIP LOCKED`, and each job has at most one live message.
///
/// A message row holds its job id, `visible_at` (when it may be received: the enqueue delay, the release
/// delay or the end of the current lease), the current lease's random token (the receipt is
/// `<id>.<token>`) and the receive count. A receive locks the first visible rows with `FOR UPDATE SKIP
/// LOCKED`, so concurrent receivers in any number of processes never wait on each other and never
/// claim one row twice, and moves `visible_at` to the lease's end with a new token, in one statement.
///
/// **One live message per job.** A unique index on `(queue, job_id)` makes ``enqueue(_:delay:)``
/// idempotent per job: enqueueing a job that already has a message returns that message's id and
/// changes nothing, so a reconciler that requeues a job its worker still holds never doubles it.
/// Redriving a dead letter whose job was queued again meanwhile only removes the dead letter.
///
/// Dead letters move to their own table (the hot table stays small) with their reason and receive
/// count. Time is the injected clock's, bound as a parameter of every statement, so the processes
/// sharing a queue need clocks in step (NTP), as with any lease.
public struct PostgresQueue: Queue {
    let session: SQLSession
    let schema: PostgresSchema
    /// The queue's name: several queues can share the tables.
    public let name: String
    let clock: any ExportClock
    /// How often an empty receive with a `waitTime` looks again (while no wake-ups are listening).
    public let pollInterval: Duration
    /// The `LISTEN`/`NOTIFY` wake-ups, if any: with them, visible-at-once messages are announced and an
    /// empty receive waits for the announcement.
    public let wakeUps: PostgresWakeUps?
    /// Whether a receive also reads each message's job from the schema's jobs table, in the same
    /// statement, and hands it over as `Delivery.job`: one round trip per job fewer for the
    /// worker. Set it when the jobs are in this schema's table (`PostgresBackend` does).
    public let readsJobs: Bool

    /// Creates the queue; run ``PostgresSchema/migrate(_:)`` once before using it.
    ///
    /// - Parameters:
    ///   - executor: Where its statements run.
    ///   - schema: The table names.
    ///   - name: The queue's name; `exports` by default.
    ///   - clock: The clock of leases and delays.
    ///   - pollInterval: How often a long-polling receive looks again while no wake-ups are listening;
    ///     100 ms by default.
    ///   - wakeUps: `LISTEN`/`NOTIFY` wake-ups (``PostgresWakeUps``), or `nil` to poll only.
    ///   - readsJobs: Whether a receive reads each message's job from `schema`'s jobs table (kept by a
    ///     ``PostgresJobStore`` of the same schema) with the lease; `false` by default.
    public init(
        executor: any ExportSQLExecutor, schema: PostgresSchema, name: String = "exports", clock: any ExportClock = SystemClock(),
        pollInterval: Duration = .milliseconds(100), wakeUps: PostgresWakeUps? = nil, readsJobs: Bool = false
    ) {
        self.readsJobs = readsJobs
        session = SQLSession(executor: executor)
        self.schema = schema
        self.name = name
        self.clock = clock
        self.pollInterval = pollInterval
        self.wakeUps = wakeUps
    }

    /// Set by `PostgresBackend`: see `PostgresJobStore.link`.
    var link: PostgresBackendLink?

    /// A job's `INSERT` (without `RETURNING`, its `bindings` numbered from `$1`) that also queues the
    /// job's message, visible at once and announced, in the same statement: one row when the job was
    /// inserted (and its message queued), none when the insert did nothing.
    func enqueueing(afterInsert insert: String, _ bindings: [String?]) throws(ExportError) -> (String, [String?]) {
        let next = bindings.count + 1
        let sql = """
            WITH job AS (\(insert) RETURNING id),
            message AS (
                INSERT INTO \(schema.queue) (queue, job_id, visible_at, enqueued_at)
                SELECT $\(next), id, $\(next + 1)::timestamptz, $\(next + 1)::timestamptz FROM job
                ON CONFLICT (queue, job_id) DO NOTHING
            )
            SELECT 'created'\(announce(next + 2, when: true)) FROM job
            """
        return (sql, announced(bindings + [name, try SQLSession.text(clock.now())], when: true))
    }

    /// The `RETURNING` addition that announces a message visible at once, or nothing.
    private func announce(_ parameter: Int, when visibleNow: Bool) -> String {
        guard wakeUps != nil, visibleNow else { return "" }
        return ", pg_notify($\(parameter), $\(parameter + 1))::text"
    }

    /// The bindings of ``announce(_:when:)``.
    private func announced(_ bindings: [String?], when visibleNow: Bool) -> [String?] {
        guard let wakeUps, visibleNow else { return bindings }
        return bindings + [wakeUps.channel, name]
    }

    /// Adds a message, unless its job already has one.
    ///
    /// - Parameters:
    ///   - message: The message.
    ///   - delay: How long before it may be delivered.
    /// - Returns: The id of the new message, or of the job's existing one.
    /// - Throws: `ExportError` when the database fails.
    @discardableResult
    public func enqueue(_ message: QueueMessage, delay: Duration) async throws -> MessageID {
        let now = clock.now()
        for _ in 0..<8 {
            let rows = try await session.run(
                """
                INSERT INTO \(schema.queue) (queue, job_id, visible_at, enqueued_at)
                VALUES ($1, $2, $3::timestamptz + make_interval(secs => $4::double precision), $3::timestamptz)
                ON CONFLICT (queue, job_id) DO NOTHING RETURNING id::text\(announce(5, when: delay <= .zero))
                """,
                announced([name, message.jobID.rawValue, try SQLSession.text(now), SQLSession.seconds(delay)], when: delay <= .zero))
            if let id = rows.first?[0] { return MessageID(id) }
            // The job has a live message (perhaps committed after this statement's snapshot): answer its id.
            let existing = try await session.run(
                "SELECT id::text FROM \(schema.queue) WHERE queue = $1 AND job_id = $2", [name, message.jobID.rawValue])
            if let id = existing.first?[0] { return MessageID(id) }
        }
        throw ExportError(.transient, "the message of job \(message.jobID) kept appearing and disappearing; try again")
    }

    /// Leases up to `max` visible messages.
    ///
    /// - Parameters:
    ///   - max: The most messages (1 to 10; other values are clamped).
    ///   - visibilityTimeout: The lease length.
    ///   - waitTime: How long to keep looking while none is visible (polling every ``pollInterval``).
    /// - Returns: The deliveries.
    /// - Throws: `ExportError` when the database fails.
    public func receive(max: Int, visibilityTimeout: Duration, waitTime: Duration) async throws -> [Delivery] {
        let count = Swift.max(1, Swift.min(max, 10))
        let start = clock.now()
        let deadline = start.adding(waitTime)
        while true {
            let seen = wakeUps?.generation
            let now = clock.now()
            let leaseEnd = now.adding(visibilityTimeout)
            let rows = try await session.run(
                """
                WITH picked AS (
                    SELECT id FROM \(schema.queue) WHERE queue = $1 AND visible_at <= $2::timestamptz
                    ORDER BY visible_at, id LIMIT $3::integer FOR UPDATE SKIP LOCKED
                )
                UPDATE \(schema.queue) AS q SET visible_at = $4::timestamptz, receive_count = q.receive_count + 1,
                    lease_token = md5(random()::text || clock_timestamp()::text || q.id::text)
                FROM picked WHERE q.id = picked.id
                RETURNING q.id::text, q.job_id, q.lease_token, q.receive_count::text\(readsJobs ? ",\n    (SELECT j.document::text FROM \(schema.jobs) AS j WHERE j.id = q.job_id)" : "")
                """,
                [name, try SQLSession.text(now), String(count), try SQLSession.text(leaseEnd)])
            if !rows.isEmpty {
                var deliveries: [Delivery] = []
                for row in rows {
                    guard let id = row[0], let token = row[2], let jobText = row[1], let jobID = JobID(jobText) else {
                        throw ExportError(.corruptData, "queue row \(row[0] ?? "?") in \(schema.queue) has no valid job id")
                    }
                    deliveries.append(
                        Delivery(
                            id: MessageID(id), message: QueueMessage(jobID: jobID), receipt: LeaseReceipt("\(id).\(token)"),
                            receiveCount: try SQLSession.int(row[3], "a receive count"), leaseExpiresAt: leaseEnd,
                            // A job that is missing or cannot be decoded: the worker's own read finds out.
                            job: readsJobs ? try? PostgresJobStore.decode(row[4], id: jobText, table: schema.jobs) : nil))
                }
                return deliveries.sorted { (Int($0.id.rawValue) ?? 0) < (Int($1.id.rawValue) ?? 0) }
            }
            let left = clock.now().distance(to: deadline)
            guard left > 0 else { return [] }
            let remaining = Duration.milliseconds(Int64((left * 1000).rounded(.up)))
            if let wakeUps, let seen, wakeUps.isListening {
                try await wakeUps.wait(after: seen, timeout: Swift.min(wakeUps.fallbackPollInterval, remaining), clock: clock)
            } else {
                try await clock.sleep(for: Swift.min(pollInterval, remaining))
            }
        }
    }

    /// Deletes a delivered message.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    /// - Throws: `ExportError.Code.leaseLost` when another receive took the message, or it is gone.
    public func acknowledge(_ receipt: LeaseReceipt) async throws {
        let (id, token) = try Self.parse(receipt)
        let rows = try await session.run(
            "DELETE FROM \(schema.queue) WHERE id = $1::bigint AND lease_token = $2 RETURNING id::text", [id, token])
        guard !rows.isEmpty else { throw Self.lost(receipt) }
    }

    /// Makes a delivered message visible again after `delay`.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - delay: How long it stays hidden.
    /// - Throws: `ExportError.Code.leaseLost` when the lease is no longer held.
    public func release(_ receipt: LeaseReceipt, delay: Duration) async throws {
        let (id, token) = try Self.parse(receipt)
        let rows = try await session.run(
            """
            UPDATE \(schema.queue) SET visible_at = $3::timestamptz + make_interval(secs => $4::double precision), lease_token = NULL
            WHERE id = $1::bigint AND lease_token = $2 RETURNING id::text\(announce(5, when: delay <= .zero))
            """,
            announced([id, token, try SQLSession.text(clock.now()), SQLSession.seconds(delay)], when: delay <= .zero))
        guard !rows.isEmpty else { throw Self.lost(receipt) }
    }

    /// Extends a lease from now.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - visibilityTimeout: The new lease length from now.
    /// - Returns: When the extended lease ends.
    /// - Throws: `ExportError.Code.leaseLost` when the lease is no longer held.
    @discardableResult
    public func extendLease(_ receipt: LeaseReceipt, by visibilityTimeout: Duration) async throws -> Date {
        let (id, token) = try Self.parse(receipt)
        let end = clock.now().adding(visibilityTimeout)
        let rows = try await session.run(
            "UPDATE \(schema.queue) SET visible_at = $3::timestamptz WHERE id = $1::bigint AND lease_token = $2 RETURNING id::text",
            [id, token, try SQLSession.text(end)])
        guard !rows.isEmpty else { throw Self.lost(receipt) }
        return end
    }

    /// Moves a delivered message to the dead-letter table.
    ///
    /// - Parameters:
    ///   - receipt: The delivery's receipt.
    ///   - reason: Why.
    /// - Throws: `ExportError.Code.leaseLost` when the lease is no longer held.
    public func deadLetter(_ receipt: LeaseReceipt, reason: String) async throws {
        let (id, token) = try Self.parse(receipt)
        let rows = try await session.run(
            """
            WITH gone AS (DELETE FROM \(schema.queue) WHERE id = $1::bigint AND lease_token = $2 RETURNING *)
            INSERT INTO \(schema.deadLetters) (id, queue, job_id, reason, receive_count, enqueued_at, dead_lettered_at)
            SELECT id, queue, job_id, $3, receive_count, enqueued_at, $4::timestamptz FROM gone
            ON CONFLICT (id) DO UPDATE SET reason = EXCLUDED.reason, receive_count = EXCLUDED.receive_count,
                dead_lettered_at = EXCLUDED.dead_lettered_at
            RETURNING id::text
            """,
            [id, token, reason, try SQLSession.text(clock.now())])
        guard !rows.isEmpty else { throw Self.lost(receipt) }
    }

    /// Lists dead letters, oldest first.
    ///
    /// - Parameters:
    ///   - limit: The most to return.
    /// - Returns: The dead letters.
    /// - Throws: `ExportError` when the database fails.
    public func deadLetters(limit: Int) async throws -> [DeadLetter] {
        guard limit >= 1 else { return [] }
        let rows = try await session.run(
            """
            SELECT id::text, job_id, reason, receive_count::text, extract(epoch FROM dead_lettered_at)::text
            FROM \(schema.deadLetters) WHERE queue = $1 ORDER BY dead_lettered_at, id LIMIT $2::integer
            """,
            [name, String(min(limit, 10_000))])
        return try rows.map { row throws(ExportError) in
            guard let id = row[0], let jobText = row[1], let jobID = JobID(jobText) else {
                throw ExportError(.corruptData, "dead letter \(row[0] ?? "?") in \(schema.deadLetters) has no valid job id")
            }
            return DeadLetter(
                id: MessageID(id), message: QueueMessage(jobID: jobID), reason: row[2] ?? "",
                receiveCount: try SQLSession.int(row[3], "a receive count"),
                deadLetteredAt: try SQLSession.date(epoch: row[4], "a dead letter's time"))
        }
    }

    /// Moves dead letters back as fresh messages (receive count 0, visible now), keeping their ids.
    ///
    /// - Parameters:
    ///   - ids: The dead letters, or `nil` for all of this queue's.
    /// - Returns: How many dead letters were moved (one whose job has a live message again is only removed,
    ///   and counted).
    /// - Throws: `ExportError` when the database fails.
    @discardableResult
    public func redrive(_ ids: [MessageID]?) async throws -> Int {
        let list: String? = try ids.map { ids throws(ExportError) in
            for id in ids where Int64(id.rawValue) == nil {
                throw ExportError(.invalidRequest, "\(String(reflecting: id.rawValue)) is not a message id of this queue")
            }
            return "{" + ids.map(\.rawValue).joined(separator: ",") + "}"
        }
        let rows = try await session.run(
            """
            WITH moved AS (
                DELETE FROM \(schema.deadLetters) WHERE queue = $1 AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))
                RETURNING id, queue, job_id
            ), queued AS (
                INSERT INTO \(schema.queue) (id, queue, job_id, visible_at, enqueued_at)
                SELECT id, queue, job_id, $3::timestamptz, $3::timestamptz FROM moved
                ON CONFLICT DO NOTHING
            )
            SELECT count(*)::text FROM moved
            """,
            [name, list, try SQLSession.text(clock.now())])
        let moved = try SQLSession.int(rows.first?[0], "a count")
        if moved > 0, let wakeUps {
            _ = try await session.run("SELECT pg_notify($1, $2)::text", [wakeUps.channel, name])
        }
        return moved
    }

    // MARK: Internals

    /// Which of `jobs` have a live message (waiting, delayed or leased: every row of the queue table
    /// is live; acknowledged and dead-lettered messages leave it), by the `(queue, job_id)` index.
    ///
    /// - Parameters:
    ///   - jobs: The jobs to look for.
    /// - Returns: The jobs with a live message; never `nil`.
    /// - Throws: `ExportError` when the database fails.
    public func jobsWithLiveMessages(among jobs: Set<JobID>) async throws -> Set<JobID>? {
        guard !jobs.isEmpty else { return [] }
        let rows = try await session.run(
            "SELECT job_id FROM \(schema.queue) WHERE queue = $1 AND job_id = ANY($2::text[])",
            [name, "{" + jobs.map(\.rawValue).sorted().joined(separator: ",") + "}"])
        return Set(rows.compactMap { $0[0].flatMap(JobID.init) })
    }

    static func parse(_ receipt: LeaseReceipt) throws(ExportError) -> (String, String) {
        let parts = receipt.rawValue.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, Int64(parts[0]) != nil, !parts[1].isEmpty else {
            throw ExportError(.leaseLost, "\(String(reflecting: receipt.rawValue)) is not a receipt of this queue", isRetryable: false)
        }
        return (parts[0], parts[1])
    }

    static func lost(_ receipt: LeaseReceipt) -> ExportError {
        ExportError(.leaseLost, "the lease \(receipt) is no longer held: the message was received again, released or removed")
    }
}
