import ExportAdapters
import ExportCore
import Foundation

/// The worker's configuration, read from the environment in one pass so every missing or malformed
/// setting is named at once.
struct WorkerSettings {
    var aws: AWSConfiguration
    /// The default credential chain under `aws`'s cache, to report which source it used.
    var credentialChain: AWSCredentialChain
    var table: String
    var bucket: String
    var queueURL: String
    var deadLetterQueueURL: String
    var sender: String
    var source: HTTPMembershipSource.Configuration
    var idleExitSeconds: Double?
    var reconcileSeconds: Double
    /// How long a job may sit untouched before the reconciler repairs it (queues it again, or sends
    /// the notification a killed worker left unrecorded).
    var requeueSeconds: Double = 600
    /// The queue and job lease; heartbeats renew it.
    var visibilitySeconds: Double = 300
    /// Exports run at once by this process.
    var concurrency = 2

    static let usage = """
        export-aws-worker: runs exports from an SQS queue (DynamoDB jobs, S3 files, SES e-mails, memberships over HTTP).
        Run as many copies as you like; they share the work. Stops on SIGTERM or SIGINT: running exports get
        their grace period, the rest are handed back to the queue, and it exits 0.

        USAGE: export-aws-worker [--help]     (all configuration comes from the environment)

        CREDENTIALS, found as the AWS SDKs find them (the first source set up wins; checked at start-up):
          1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN]
          2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN [, AWS_ROLE_SESSION_NAME] (STS AssumeRoleWithWebIdentity)
          3. the shared files ~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), profile AWS_PROFILE or default
          4. the container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI [, AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)]
          5. the EC2 instance role through IMDSv2 (AWS_EC2_METADATA_DISABLED=true turns it off)
          Temporary credentials are refreshed 5 minutes before they expire.

        REQUIRED:
          EXPORT_TABLE          the DynamoDB table of jobs (and the e-mail ledger)
          EXPORT_BUCKET         the S3 bucket of export files
          EXPORT_QUEUE_URL      the SQS queue URL
          EXPORT_DLQ_URL        its dead-letter queue URL
          EXPORT_SENDER         the SES sender address
          MEMBERSHIPS_URL_TEMPLATE   the host's memberships API, with {owner}, e.g. https://api.example.com/users/{owner}/memberships

        OPTIONAL:
          AWS_REGION            (or AWS_DEFAULT_REGION) default us-east-1, as the demo
          AWS_ENDPOINT_URL      one endpoint for every service, e.g. a local moto_server http://127.0.0.1:4566
          MEMBERSHIPS_TOKEN     bearer token for the memberships API
          MEMBERSHIPS_FIELD_<COLUMN>   the JSON field of a column in each row, when it is not the default:
                                MEMBERSHIP_ID (default "id"; many APIs say membership_id), USER_ID, ORGANIZATION_ID,
                                ORGANIZATION_NAME, PLAN, ROLE, STATUS, STARTED_AT, ENDED_AT, RENEWS_AT, AMOUNT, CURRENCY
          MEMBERSHIPS_ATTRIBUTES   extra columns as column=field pairs, e.g. seat_count=seats,team=team.name
          EXPORT_IDLE_EXIT_SECONDS exit after this long without work (batch runs and tests)
          EXPORT_RECONCILE_SECONDS how often this process reconciles (default 300; 0 when another process does)
          EXPORT_REQUEUE_SECONDS   how long a job sits untouched before the reconciler repairs it (default 600)
          EXPORT_VISIBILITY_SECONDS the lease on a job (default 300); a killed worker's job is taken over after it
          EXPORT_CONCURRENCY    exports run at once by this process (default 2)
        """

    /// The mapping variables and the field each one sets.
    static var fieldVariables: [(String, WritableKeyPath<HTTPMembershipSource.FieldMapping, String>)] { [
        ("MEMBERSHIP_ID", \.membershipID), ("ORGANIZATION_ID", \.organizationID), ("ORGANIZATION_NAME", \.organizationName),
        ("PLAN", \.plan), ("ROLE", \.role), ("STATUS", \.status), ("STARTED_AT", \.startedAt),
    ] }
    static var optionalFieldVariables: [(String, WritableKeyPath<HTTPMembershipSource.FieldMapping, String?>)] { [
        ("USER_ID", \.userID), ("ENDED_AT", \.endedAt), ("RENEWS_AT", \.renewsAt), ("AMOUNT", \.amount), ("CURRENCY", \.currency),
    ] }

    /// Reads every setting; throws one error that lists everything missing or malformed.
    static func from(_ environment: [String: String]) throws -> WorkerSettings {
        var problems: [String] = []
        func value(_ name: String) -> String {
            guard let value = environment[name], !value.isEmpty else {
                problems.append("\(name) is not set")
                return ""
            }
            return value
        }
        let table = value("EXPORT_TABLE"), bucket = value("EXPORT_BUCKET")
        let queueURL = value("EXPORT_QUEUE_URL"), deadLetterQueueURL = value("EXPORT_DLQ_URL")
        let sender = value("EXPORT_SENDER"), template = value("MEMBERSHIPS_URL_TEMPLATE")
        if !template.isEmpty, !template.contains("{owner}") { problems.append("MEMBERSHIPS_URL_TEMPLATE needs {owner}, got \(template)") }
        let region = [environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]].compactMap { $0 }.first { !$0.isEmpty } ?? "us-east-1"
        var endpoint: URL?
        if let text = environment["AWS_ENDPOINT_URL"], !text.isEmpty {
            if let url = URL(string: text), url.scheme != nil, url.host != nil { endpoint = url } else {
                problems.append("AWS_ENDPOINT_URL must be a URL such as http://127.0.0.1:4566, got \(text)")
            }
        }
        var fields = HTTPMembershipSource.FieldMapping()
        let known = Set(fieldVariables.map(\.0) + optionalFieldVariables.map(\.0))
        for (name, text) in environment where name.hasPrefix("MEMBERSHIPS_FIELD_") && !known.contains(String(name.dropFirst(18))) {
            problems.append("\(name) is not a column; use MEMBERSHIPS_FIELD_ with one of \(known.sorted().joined(separator: ", ")) (value \(text))")
        }
        for (suffix, path) in fieldVariables {
            if let text = environment["MEMBERSHIPS_FIELD_" + suffix], !text.isEmpty { fields[keyPath: path] = text }
        }
        for (suffix, path) in optionalFieldVariables {
            if let text = environment["MEMBERSHIPS_FIELD_" + suffix] { fields[keyPath: path] = text.isEmpty ? nil : text }
        }
        if let text = environment["MEMBERSHIPS_ATTRIBUTES"], !text.isEmpty {
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    problems.append("MEMBERSHIPS_ATTRIBUTES needs column=field pairs separated by commas, got \(pair)")
                    continue
                }
                fields.attributes[parts[0]] = parts[1]
            }
        }
        func seconds(_ name: String) -> Double? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let number = Double(text), number.isFinite, number >= 0 else {
                problems.append("\(name) must be a number of seconds, got \(text)")
                return nil
            }
            return number
        }
        let idle = seconds("EXPORT_IDLE_EXIT_SECONDS")
        let reconcile = seconds("EXPORT_RECONCILE_SECONDS") ?? 300
        let visibility = seconds("EXPORT_VISIBILITY_SECONDS") ?? 300
        let requeue = seconds("EXPORT_REQUEUE_SECONDS") ?? 600
        if requeue < 1 || requeue > 31_536_000 { problems.append("EXPORT_REQUEUE_SECONDS must be from 1 to 31536000 (a year)") }
        if visibility < 1 || visibility > 43_200 { problems.append("EXPORT_VISIBILITY_SECONDS must be from 1 to 43200 (SQS's range)") }
        var concurrency = 2
        if let text = environment["EXPORT_CONCURRENCY"], !text.isEmpty {
            if let number = Int(text), (1...64).contains(number) { concurrency = number } else { problems.append("EXPORT_CONCURRENCY must be a whole number from 1 to 64, got \(text)") }
        }
        guard problems.isEmpty else { throw SettingsError(problems: problems) }
        let chain = AWSCredentialChain.default(environment: environment, region: region)
        return WorkerSettings(
            aws: AWSConfiguration(credentialProvider: AWSCachingCredentialProvider(wrapping: chain), region: region, endpoint: endpoint),
            credentialChain: chain,
            table: table, bucket: bucket, queueURL: queueURL, deadLetterQueueURL: deadLetterQueueURL, sender: sender,
            source: .init(urlTemplate: template, bearerToken: environment["MEMBERSHIPS_TOKEN"], fields: fields),
            idleExitSeconds: idle, reconcileSeconds: reconcile, requeueSeconds: requeue, visibilitySeconds: visibility, concurrency: concurrency)
    }
}

/// Every problem with the environment, one per line.
struct SettingsError: Error, CustomStringConvertible {
    let problems: [String]
    var description: String {
        "the configuration is incomplete (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n") + "\nSee export-aws-worker --help."
    }
}
