import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Compute backdoor exposure scores for every credential and store the run.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .customLong("as-of"), help: "Score as of this date: ages and evidence validity are judged then (default: now).") var asOf: String?

    func run() async throws {
        let date = try parseDate(asOf, "--as-of") ?? Date()
        let run = try await connection.withDatabase { db in try await ScoreRuns(db).run(asOf: date, weights: try ScoreRuns.bundledWeights()) }
        let bands = ["critical", "high", "medium", "low"].map { "\(run.bands[$0] ?? 0) \($0)" }.joined(separator: ", ")
        Output.print("run \(run.id): scored \(run.credentials) credentials in \(run.durationMs) ms (weights \(run.weightsVersion), as of \(Timestamps.format(run.asOf))): \(bands)\n")
    }
}

struct ExposureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exposure",
        abstract: "Credentials by backdoor exposure score, from the latest scoring run; `exposure diff` compares runs.",
        subcommands: [ExposureList.self, Diff.self],
        defaultSubcommand: ExposureList.self)

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What got worse and what got better since an earlier run, and why.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: FormatOption
        @Option(help: "A run id, or a date (the latest run started by then).") var since: String

        func run() async throws {
            let rows = try await connection.withDatabase { db -> [ScoreDiff.Row] in
                let runs = ScoreRuns(db)
                guard let latest = try await runs.latestRunID() else { throw CommandFailure(message: "no scoring run yet: run `sleeper score`") }
                let old: Int
                do { old = try await runs.resolve(since) } catch let error as StoreError { throw CommandFailure(message: "--since: \(error)") }
                return try await runs.diff(from: old, to: latest)
            }
            Output.print(ListingRenderer.render(ExposureListing.diff(rows), as: output.format))
        }
    }
}

struct ExposureList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Credentials by backdoor exposure score, from the latest scoring run.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: FormatOption
    @Option(help: "Only the N highest.") var top: Int?
    @Option(help: "critical, high, medium or low.") var band: String?
    @Option(name: .customLong("min-score"), help: "Only scores at or above this.") var minScore: Int?
    @Option(help: "Only credentials with this owner.") var owner: String?
    @Option(help: "Only credentials that reach this resource.") var resource: String?

    func run() async throws {
        if let band, !["critical", "high", "medium", "low"].contains(band) { throw CommandFailure(message: "--band: '\(band)' is not one of critical, high, medium, low") }
        let rows = try await connection.withDatabase { db -> [ScoreRuns.Exposure] in
            let runs = ScoreRuns(db)
            guard let run = try await runs.latestRunID() else { throw CommandFailure(message: "no scoring run yet: run `sleeper score`") }
            return try await runs.exposures(run: run, top: top, band: band, minScore: minScore, owner: owner, resource: resource)
        }
        let listing = ExposureListing.exposures(rows)
        Output.print(ListingRenderer.render(output.format == .table ? listing.selecting(ExposureListing.tableColumns) : listing,
                                            as: output.format))
    }
}

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "How a credential's score was reached (factors, evidence, framework items, paths, what would lower it most), or a model's or agent's likelihood and blast radius.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "credential:KEY, model:KEY or agent:KEY") var subject: String
    @Option(help: "text or json.") var format: String = "text"
    @Option(name: .customLong("as-of"), help: "Explain as of this date (default: now).") var asOf: String?

    func run() async throws {
        guard let subject = Subject(subject), subject.kind != .dataset else {
            throw CommandFailure(message: "'\(subject)' is not credential:KEY, model:KEY or agent:KEY")
        }
        let date = try parseDate(asOf, "--as-of") ?? Date()
        let answer = try await connection.withDatabase { db in try await Explainer(db).explain(subject, asOf: date) }
        Output.print(format == "json" ? answer.json() : answer.text())
    }
}
