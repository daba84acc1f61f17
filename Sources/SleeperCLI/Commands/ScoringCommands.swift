import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Compute backdoor exposure scores for every credential and store the run.",
        discussion: HelpText.discussion(
            """
            Without --as-of the run describes now (the system clock, or SLEEPER_NOW when set) and becomes the current \
            run behind exposure, report and exports. With --as-of it is a what-if run: stored and citable by its id \
            (exposure --run, exposure diff --since), but never the current run, never a base for rescoring, and \
            absent from history and trends.
            """, "score"))
    @OptionGroup var connection: ConnectionOptions
    @Option(
        name: .customLong("as-of"),
        help: "Score as of this time (YYYY-MM-DD, the end of that day UTC, or an ISO 8601 date-time) as a what-if run: ages and evidence validity are judged then. Default: now, as the current run.")
    var asOf: String?

    func run() async throws {
        let whatIf = asOf != nil
        let date = try parseMoment(asOf, "--as-of") ?? SleeperClock.now()
        let progress = ProgressLine()
        progress.update("scoring every credential as of \(Timestamps.format(date))")
        let (run, unreached) = try await connection.withDatabase { db in
            defer { progress.finish() }
            return (try await ScoreRuns(db).run(asOf: date, weights: try ScoreRuns.bundledWeights(), whatIf: whatIf), try await CredentialReach(db).unreached())
        }
        let bands = Band.allCases.map { "\(run.bands[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        let kind = whatIf ? "what-if run \(run.id) (not the current run)" : "run \(run.id)"
        Output.print("\(kind): scored \(run.credentials) credentials in \(run.durationMs) ms (weights \(run.weightsVersion), as of \(Timestamps.format(run.asOf))): \(bands)\n")
        // Zero is not safe when nothing links a credential to a model: say how many, and why.
        if let line = UnreachedReason.line(unreached) { Output.print(line + "\n") }
    }
}

struct ExposureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exposure",
        abstract: "Credentials by backdoor exposure score, from the current scoring run; `exposure diff` compares runs.",
        discussion: HelpText.discussion(
            """
            `sleeper exposure` runs `exposure list`, whose options are:
              --top N            only the N highest (highest score first; ties in inventory order)
              --band BAND        critical, high, medium or low
              --min-score N      only scores at or above N (0-100)
              --owner NAME       only credentials with this owner (must exist)
              --resource KEY     only credentials that reach this resource (must exist)
              --run ID           read this run (a what-if run too) instead of the current run
              --format FORMAT    table (default), json, csv or markdown
            The first line names the run: which one, as of when, made when and how old it is. \
            SLEEPER_MAX_RUN_AGE (hours, default 24) sets when that age becomes a warning.
            """, "exposure"),
        subcommands: [ExposureList.self, Diff.self],
        defaultSubcommand: ExposureList.self)

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What got worse and what got better since an earlier run, and why.", discussion: HelpText.discussion("exposure diff"))
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: FormatOption
        @Option(
            help:
                "A run id (a what-if run too), or a date: the latest current run as of then (YYYY-MM-DD means the start of that day UTC, so `--since today` compares with the last run before today; or an ISO 8601 date-time)."
        ) var since: String
        @Option(help: "Compare with this run id instead of the current run.") var run: Int?

        func run() async throws {
            let (rows, old, new) = try await connection.withDatabase { db -> ([ScoreDiff.Row], RunCitation, RunCitation) in
                let runs = ScoreRuns(db)
                let new = try await RunChoice.cite(run, in: runs)
                let old: Int
                do { old = try await runs.resolve(since, since: true) } catch let error as StoreError { throw CommandFailure(message: "--since: \(error)") }
                guard let oldCitation = try await runs.citation(of: old) else { throw CommandFailure(message: "--since: no scoring run \(old)") }
                return (try await runs.diff(from: old, to: new.id), oldCitation, new)
            }
            let now = SleeperClock.now()
            RunChoice.announce("from \(old.text(now: now))\nto   \(new.text(now: now))", format: output.format)
            Output.print(ListingRenderer.render(ExposureListing.diff(rows), as: output.format))
        }
    }
}

struct ExposureList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Credentials by backdoor exposure score, from the latest scoring run.", discussion: HelpText.discussion("exposure list"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: FormatOption
    @Option(parsing: .unconditional, help: "Only the N highest (1 or more).") var top: Int?
    @Option(help: "\(Band.names(" or ")).") var band: Band?
    @Option(name: .customLong("min-score"), parsing: .unconditional, help: "Only scores at or above this (0 to 100).") var minScore: Int?
    @Option(help: "Only credentials with this owner.") var owner: String?
    @Option(help: "Only credentials that reach this resource.") var resource: String?
    @Option(help: "Read this run (a what-if run too) instead of the current run.") var run: Int?

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top: \(top) is not a number of rows; give 1 or more") }
        if let minScore, !(0...100).contains(minScore) { throw ValidationError("--min-score: \(minScore) is outside 0–100, the range of scores") }
    }

    func run() async throws {
        let maximumAge = try RunAgeLimit.seconds(Invocation.environment)
        let (rows, cited, unreached) = try await connection.withDatabase { db -> ([ScoreRuns.Exposure], RunCitation, [UnreachedReason: (count: Int, first: [String])]) in
            let runs = ScoreRuns(db)
            let cited = try await RunChoice.cite(run, in: runs)
            if let owner { try await ReferenceLookup(db).requireOwner(owner) }
            if let resource { try await ReferenceLookup(db).requireResource(resource) }
            return (
                try await runs.exposures(run: cited.id, top: top, band: band, minScore: minScore, owner: owner, resource: resource), cited,
                try await CredentialReach(db).unreached()
            )
        }
        let now = SleeperClock.now()
        RunChoice.announce(cited.text(now: now), format: output.format)
        if !cited.whatIf, let warning = cited.staleness(now: now, maximumAge: maximumAge) { Output.error("warning: \(warning)") }
        let listing = ExposureListing.exposures(rows)
        Output.print(
            ListingRenderer.render(
                output.format == .table ? listing.selecting(ExposureListing.tableColumns) : listing,
                as: output.format))
        // On standard error, so that a listing piped elsewhere stays what its format says.
        if let line = UnreachedReason.line(unreached) { Output.error("note: " + line) }
    }
}

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "How a credential's score was reached (factors, evidence, framework items, paths, what would lower it most), or a model's or agent's likelihood and blast radius.",
        discussion: HelpText.discussion("explain"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "credential:KEY, model:KEY or agent:KEY") var subject: String
    @Option(help: "text or json.") var format: String = "text"
    @Option(name: .customLong("as-of"), help: "Explain as of this time: YYYY-MM-DD (the end of that day, UTC) or an ISO 8601 date-time. Default: now.") var asOf: String?

    func run() async throws {
        guard let subject = Subject(subject), subject.kind != .dataset else {
            throw CommandFailure(message: "'\(subject)' is not credential:KEY, model:KEY or agent:KEY")
        }
        let date = try parseMoment(asOf, "--as-of") ?? SleeperClock.now()
        let answer = try await connection.withDatabase { db in try await Explainer(db).explain(subject, asOf: date) }
        Output.print(format == "json" ? answer.json() : answer.text())
    }
}

extension Band: ExpressibleByArgument {}
