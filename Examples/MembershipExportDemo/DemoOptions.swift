import ExportAdapters
import ExportCore
import Foundation

/// The command line of the demo.
struct DemoOptions {
    enum Backend: String { case file, memory, aws }

    var users = 200
    var minimumRows = 10
    var maximumRows = 5000
    var workers = 4
    var dataDirectory = "./membership-export-data"
    var format = ExportFormat.csv
    var failureRate = 0.0
    var backend = Backend.file
    var aws = AWSDemoSettings()
    var inputFile: String?
    var user: String?
    var seed: UInt64 = 42
    var visibilityTimeout: Duration = .seconds(15)
    var maxAttempts = 4
    var pageSize = 1000
    var pageDelay: Duration = .zero
    /// Rows between an export's checkpoints; `nil` for the library's default, 0 for none.
    var checkpointRows: Int?
    var workerMode = false
    /// `reconcile`: run reconciler passes on an existing data directory until one finds nothing to do.
    var reconcileMode = false
    /// `reconcile --days-later N`: run them as if N days had passed (to watch retention and expiry work).
    var daysLater = 0
    /// `reconcile --batch-size N`: jobs per repair per pass.
    var batchSize = 100
    var quiet = false
    var byteOrderMark = false
    var durability = FileDurability.powerLoss
    /// Whether --users, --rows or --seed was given (a stored data set then differs on purpose).
    var datasetFlagsGiven = false
    /// Whether --format was given.
    var formatGiven = false
    /// `--download-address URL`: the host API whose stable `/exports/{id}/download` the e-mails carry.
    var downloadAddress: DownloadAddress?

    static let usage = """
        membership-export-demo: runs the whole export flow on one machine.

        USAGE: swift run membership-export-demo [options]
               swift run membership-export-demo worker --data-dir DIR [--seed N --users N ...]
               swift run membership-export-demo schedule [--cron EXPR --zone ZONE --speed N ...]  (--help for its options)

        OPTIONS:
          --users N            synthetic users (default 200)
          --rows MIN-MAX       memberships per synthetic user (default 10-5000)
          --workers N          exports running in parallel (default 4)
          --data-dir DIR       where jobs, queue, files and e-mails live (default ./membership-export-data)
          --format F           csv | csv.gz | jsonl (default csv)
          --fail-rate R        probability (0-1) that an attempt fails transiently (default 0)
          --backend B          file | memory | aws (default file)
          --endpoint URL       aws: the service endpoint, e.g. a local moto_server (default: AWS itself)
          --region R           aws: the region (default $AWS_REGION or us-east-1)
          --bucket B           aws: the S3 bucket (default membership-exports)
          --queue Q            aws: the SQS queue name; Q-dlq is its dead-letter queue (default membership-exports)
          --table T            aws: the DynamoDB table (default membership-exports)
          --sender ADDR        aws: the SES sender address (default exports@example.com)
          --input FILE         export memberships from a CSV or JSON Lines file instead of synthetic data, with the
                               export's own columns: membership_id, user_id, organization_id, organization_name,
                               plan, role, status, started_at (required), ended_at, renews_at, amount, currency, and
                               any extra columns (kept as they are); see Examples/memberships.csv and .jsonl
          --user ID            with --input: export only this user (default: every user in the file)
          --seed N             seed of the synthetic data and injected failures (default 42)
          --visibility S       queue lease in seconds (default 15); a killed run's jobs resume after it
          --max-attempts N     attempts per job before it fails (default 4)
          --page-size N        memberships read per page (default 1000)
          --page-delay MS      simulate a slow database: wait this long for every page (default 0)
          --checkpoint-rows N  rows between an export's checkpoints (default 50000; 0 for none): a killed
                               export's next attempt continues from the last one instead of row zero
          --bom                csv, csv.gz: start files with a UTF-8 byte order mark, so Excel (double-click) and
                               LibreOffice pick UTF-8 by themselves (see Docs/Encoding.md)
          --durability D       file: power-loss (default: every change fsynced) | process-crash (survives a killed
                               process, not a power loss; nothing fsynced); see Docs/Benchmarks.md
          --download-address URL  e-mails carry URL/exports/{id}/download, a host's stable address that mints a
                               fresh link per click (the host example: http://localhost:8080/api/v1); default: the
                               file's own signed link
          --quiet              no progress output; one summary line
          --help               this text

        Running again with the same --data-dir resumes: unfinished jobs are finished, none is run twice.
        The `worker` subcommand only runs workers on an existing data directory until its queue is empty.
        The `reconcile` subcommand runs the reconciler's repairs on an existing data directory (requeue what
        is stuck, send pending e-mails, expire old exports) until a pass finds nothing to do:
               swift run membership-export-demo reconcile --data-dir DIR [--days-later N] [--batch-size N]
        --days-later N runs it as if N days had passed, to watch retention work (exports expire after 7 days).
        """

    static func parse(_ arguments: [String]) throws -> DemoOptions {
        var options = DemoOptions()
        var rest = arguments[...]
        if rest.first == "worker" {
            options.workerMode = true
            rest = rest.dropFirst()
        } else if rest.first == "reconcile" {
            options.reconcileMode = true
            options.workerMode = true  // opens the data directory as it is, like a worker
            rest = rest.dropFirst()
        }
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw DemoError("\(flag) needs a value") }
            return next
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--help", "-h": throw DemoError.help
            case "--users":
                options.users = try positive(try value(flag), flag)
                options.datasetFlagsGiven = true
            case "--workers": options.workers = try positive(try value(flag), flag)
            case "--data-dir": options.dataDirectory = try value(flag)
            case "--input": options.inputFile = try value(flag)
            case "--user": options.user = try value(flag)
            case "--quiet": options.quiet = true
            case "--days-later":
                guard options.reconcileMode else { throw DemoError("--days-later is an option of the reconcile subcommand") }
                guard let days = Int(try value(flag)), (0...36_500).contains(days) else { throw DemoError("--days-later needs a whole number of days from 0 to 36500") }
                options.daysLater = days
            case "--batch-size":
                guard options.reconcileMode else { throw DemoError("--batch-size is an option of the reconcile subcommand") }
                options.batchSize = try positive(try value(flag), flag)
            case "--durability":
                switch try value(flag) {
                case "power-loss": options.durability = .powerLoss
                case "process-crash": options.durability = .processCrash
                case let other: throw DemoError("unknown durability \(other); use power-loss or process-crash")
                }
            case "--bom": options.byteOrderMark = true
            case "--max-attempts": options.maxAttempts = try positive(try value(flag), flag)
            case "--page-size": options.pageSize = try positive(try value(flag), flag)
            case "--page-delay": options.pageDelay = .milliseconds(try positive(try value(flag), flag))
            case "--checkpoint-rows":
                let text = try value(flag)
                guard let rows = Int(text), rows >= 0 else { throw DemoError("--checkpoint-rows needs a whole number of rows (0 for none), not \(text)") }
                options.checkpointRows = rows
            case "--seed":
                guard let seed = UInt64(try value(flag)) else { throw DemoError("--seed needs a whole number") }
                options.seed = seed
                options.datasetFlagsGiven = true
            case "--visibility":
                options.visibilityTimeout = .seconds(try positive(try value(flag), flag))
            case "--rows":
                let parts = try value(flag).split(separator: "-").compactMap { Int($0) }
                guard parts.count == 2, parts[0] >= 1, parts[0] <= parts[1] else { throw DemoError("--rows needs MIN-MAX, such as 10-5000") }
                (options.minimumRows, options.maximumRows) = (parts[0], parts[1])
                options.datasetFlagsGiven = true
            case "--format":
                let text = try value(flag)
                guard let format = ExportFormat(identifier: text) else { throw DemoError("unknown format \(text); use csv, csv.gz or jsonl") }
                options.format = format
                options.formatGiven = true
            case "--fail-rate":
                guard let rate = Double(try value(flag)), (0...1).contains(rate) else { throw DemoError("--fail-rate needs a number from 0 to 1") }
                options.failureRate = rate
            case "--backend":
                let text = try value(flag)
                guard let backend = Backend(rawValue: text) else { throw DemoError("unknown backend \(text); use file, memory or aws") }
                options.backend = backend
            case "--endpoint": options.aws.endpoint = try value(flag)
            case "--region": options.aws.region = try value(flag)
            case "--bucket": options.aws.bucket = try value(flag)
            case "--queue": options.aws.queue = try value(flag)
            case "--table": options.aws.table = try value(flag)
            case "--sender": options.aws.sender = try value(flag)
            case "--download-address":
                let text = try value(flag)
                guard let url = URL(string: text), let address = try? DownloadAddress(apiBaseURL: url) else {
                    throw DemoError("--download-address needs an absolute http(s) URL such as http://localhost:8080/api/v1, not \(text)")
                }
                options.downloadAddress = address
            default:
                throw DemoError("unknown option \(flag); see --help")
            }
        }
        if options.user != nil && options.inputFile == nil { throw DemoError("--user needs --input") }
        return options
    }

    private static func positive(_ text: String, _ flag: String) throws -> Int {
        guard let number = Int(text), number > 0 else { throw DemoError("\(flag) needs a positive whole number") }
        return number
    }
}

/// A command-line error with a message for the user.
struct DemoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
    static let help = DemoError("help")
}
