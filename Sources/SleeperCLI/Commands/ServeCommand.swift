import ArgumentParser
import Foundation
import Logging
import SleeperCore
import SleeperServer
import SleeperStore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the JSON API (see /openapi.yaml) over the same store; SIGTERM or SIGINT drain requests and exit 0.", discussion: HelpText.discussion("serve"))
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed at start).") var port = 8080
    @Option(name: .customLong("max-body-mb"), help: "Largest request body accepted, in MiB.") var maxBodyMB = 64
    @Option(name: .customLong("max-page"), help: "Largest page a list returns.") var maxPage = 1000
    @Option(
        name: .customLong("idempotency-pending-seconds"),
        help: "How long an Idempotency-Key may stay in progress (its answer lost in an outage) before a retry settles it from what its write did.")
    var idempotencyPendingSeconds = IdempotencyKeys.defaultPendingSeconds
    @Option(
        name: .customLong("refusals-per-minute"),
        help: "Requests without a valid token a source may make in a minute before it is answered 429 for the rest of the minute.")
    var refusalsPerMinute = 600
    @Option(
        name: .customLong("scan-seconds"),
        help: "How long one POST /v1/scans may run; past it (or when its client goes away) the scan stops and nothing of it is recorded.")
    var scanSeconds = Int(ServerLimits.defaultScanSeconds)
    @Option(help: "Database connections in the pool.") var pool = 8
    @Option(name: .customLong("report-rules"), help: "How POST /v1/evidence/ingest judges reports (default: the shipped Controls/report-rules.yaml).") var reportRules: String?
    @Option(name: .customLong("scan-root"), help: "A directory whose files POST /v1/scans may read by path (?path=); repeat for more. Without it the API scans uploads only.")
    var scanRoots: [String] = []
    @Option(
        name: .customLong("webhook"),
        help:
            "Send signed webhooks (recalls, overdue actions, lapsed acceptances, newly critical credentials) to this URL; repeat for more. The secret comes from SLEEPER_WEBHOOK_SECRET or --webhook-secret-file."
    )
    var webhooks: [String] = []
    @Option(
        name: .customLong("webhook-file"),
        help: "A file of webhook receivers, one URL per line ('#' starts a comment); the place for URLs that carry credentials. SLEEPER_WEBHOOKS (URLs separated by spaces) is read too.")
    var webhookFile: String?
    @Option(name: .customLong("webhook-secret-file"), help: "A file holding the webhooks' HMAC secret (never give it on the command line).") var webhookSecretFile: String?
    @Option(name: .customLong("drain-seconds"), help: "After SIGTERM or SIGINT, how long responses in flight may take to finish; past it they are cut off, the log says so and the exit status is 1.")
    var drainSeconds = 30

    func run() async throws {
        guard (0...65535).contains(port) else { throw CommandFailure(message: "--port: \(port) is not a port number") }
        guard maxBodyMB >= 1, maxPage >= 1, pool >= 1, drainSeconds >= 1, refusalsPerMinute >= 1, idempotencyPendingSeconds >= 1, scanSeconds >= 1 else {
            throw CommandFailure(message: "--max-body-mb, --max-page, --pool, --drain-seconds, --refusals-per-minute, --idempotency-pending-seconds and --scan-seconds must be at least 1")
        }
        var logger = Invocation.logger(label: "sleeper.serve")
        logger.logLevel = Invocation.environment["SLEEPER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let rules = try reportRules.map(readReportRules)
        var options = SleeperService.Options(
            host: host, port: port,
            limits: .init(
                maxBodyBytes: maxBodyMB << 20, maxPageSize: maxPage, idempotencyPendingSeconds: idempotencyPendingSeconds,
                refusalsPerMinute: refusalsPerMinute, scanSeconds: Double(scanSeconds)),
            drainLimit: .seconds(drainSeconds), reportRules: rules)
        for root in scanRoots {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CommandFailure(message: "--scan-root: '\(root)' is not a directory")
            }
        }
        options.shutdown = Invocation.current?.shutdown
        options.scanRoots = scanRoots.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
        // Process arguments are visible to every user of the machine: a receiver whose URL carries
        // credentials comes from a file or the environment, and is stored without them.
        for url in webhooks where URLComponents(string: url)?.password != nil || URLComponents(string: url)?.user != nil {
            throw CommandFailure(
                message:
                    "--webhook: '\(WebhookSettings.stored(url))' carries credentials in its URL, which every user of the machine can read in the process list; give it in --webhook-file or SLEEPER_WEBHOOKS instead"
            )
        }
        var receivers = webhooks
        if let webhookFile {
            let text = String(decoding: try readInputFile(webhookFile), as: UTF8.self)
            receivers += text.split(whereSeparator: \.isNewline).map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        receivers += (Invocation.environment["SLEEPER_WEBHOOKS"] ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        let webhooks = receivers
        if !webhooks.isEmpty {
            for url in webhooks where !(url.hasPrefix("https://") || url.hasPrefix("http://")) || URL(string: url)?.host == nil {
                throw CommandFailure(message: "webhook receiver '\(WebhookSettings.stored(url))' is not an http:// or https:// URL")
            }
            let stored = webhooks.map(WebhookSettings.stored)
            if Set(stored).count != stored.count {
                throw CommandFailure(message: "webhook receivers: the same URL twice (credentials aside): \(stored.joined(separator: ", "))")
            }
            var secret = Invocation.environment["SLEEPER_WEBHOOK_SECRET"].map { Data($0.utf8) }
            if let webhookSecretFile {
                secret = try readInputFile(webhookSecretFile)
                // A trailing newline is the editor's, not the secret's.
                while secret?.last == 0x0A || secret?.last == 0x0D { secret?.removeLast() }
            }
            guard let secret, secret.count >= 16 else {
                throw CommandFailure(message: "--webhook needs a secret of at least 16 bytes to sign with: set SLEEPER_WEBHOOK_SECRET or give --webhook-secret-file")
            }
            options.webhooks = WebhookSettings(urls: webhooks, secret: secret)
        }
        let host = self.host
        do {
            try await connection.withDatabase(maximumConnections: pool, applicationName: "sleeper-serve-\(getpid())", endOnLoss: false, settlingOwed: false) { db in
                try await SleeperService.run(options, db: db, logger: logger) { bound in
                    Output.print("sleeper: serving on http://\(host):\(bound) (OpenAPI at /openapi.yaml)\n")
                }
            }
        } catch let exceeded as DrainExceeded {
            throw CommandFailure(message: exceeded.description)
        }
        Output.print("sleeper: stopped\n")
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "API tokens: create (shown once; only its hash is stored), list, rotate, revoke. Every token expires.",
        subcommands: [Create.self, List.self, Rotate.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it once.", discussion: HelpText.discussion("token create"))
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "A name for the token (who or what holds it).") var name: String
        @Option(help: "viewer (reads), editor (also imports, records evidence, scores) or admin (also tokens and audit).") var role: String
        @Option(help: "When it stops working (YYYY-MM-DD, the end of that day UTC, or ISO 8601; default: in \(TokenStore.defaultLifetimeDays) days; at most \(TokenStore.maximumLifetimeDays)).")
        var expires: String?

        func run() async throws {
            guard let role = AccessRole(rawValue: role) else { throw CommandFailure(message: "--role: '\(role)' is not viewer, editor or admin") }
            let until = try parseMoment(expires, "--expires")
            let token = try await connection.withDatabase { db in
                try await TokenStore(db).create(name: name, role: role, expires: until, by: AuditLog.commandLineActor)
            }
            Output.print("\(token)\n")
            Output.error("created token '\(name)' (\(role.rawValue)); it is shown once and only its hash is stored")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens: names, roles, expiry, last use, rotation, revocation; never the tokens.", discussion: HelpText.discussion("token list"))
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: FormatOption

        func run() async throws {
            let tokens = try await connection.withDatabase { db in try await TokenStore(db).list() }
            Output.print(ListingRenderer.render(TokenListing.listing(tokens), as: output.format))
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a token a new secret (printed once); the old one stops working at once.", discussion: HelpText.discussion("token rotate"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The token's name.") var name: String
        @Option(help: "The new expiry (YYYY-MM-DD, the end of that day UTC, or ISO 8601; default: in \(TokenStore.defaultLifetimeDays) days).") var expires: String?

        func run() async throws {
            let until = try parseMoment(expires, "--expires")
            let token = try await connection.withDatabase { db in
                try await TokenStore(db).rotate(name: name, expires: until, by: AuditLog.commandLineActor)
            }
            Output.print("\(token)\n")
            Output.error("rotated token '\(name)'; the old secret no longer works")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by name, saying why; it stops working at once.", discussion: HelpText.discussion("token revoke"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The token's name.") var name: String
        @Option(help: "Why it is revoked (kept with the token and in the audit log).") var reason: String

        func run() async throws {
            try await connection.withDatabase { db in try await TokenStore(db).revoke(name: name, reason: reason, by: AuditLog.commandLineActor) }
            Output.print("revoked token '\(name)'\n")
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit log: every change to the store, by whom (token name or cli:USER), when, and what.", discussion: HelpText.discussion("audit"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: FormatOption
    @Option(help: "Only entries at or after this date (YYYY-MM-DD means the start of that day UTC; or an ISO 8601 date-time).") var since: String?
    @Option(help: "At most this many entries: the latest ones.") var limit = 1000

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit: \(limit) is not a number of entries; give 1 or more") }
    }

    func run() async throws {
        let date = try parseDate(since, "--since")
        let entries = try await connection.withDatabase { db in try await AuditLog(db).entries(since: date, limit: limit, latest: true) }
        Output.print(
            ListingRenderer.render(
                Listing(
                    columns: ["id", "at", "actor", "action", "target", "detail"],
                    rows: entries.map {
                        [.integer($0.id), .text(Timestamps.format($0.at)), .text($0.actor), .text($0.action), $0.target.map(Listing.Cell.text) ?? .null, .text($0.detail)]
                    }), as: output.format))
    }
}
