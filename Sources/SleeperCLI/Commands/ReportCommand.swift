import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct ReportCommand: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument { case markdown, html }

    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The risk-review report: headline numbers, top exposures with what-if, changes, gaps, expiring evidence, unowned subjects.", discussion: HelpText.discussion("report"))
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "markdown or html (one self-contained file with inline charts).") var format: Format = .markdown
    @Option(
        help: "Compare with this run id, or the latest current run as of this date (YYYY-MM-DD means the start of that day UTC; or an ISO 8601 date-time) (default: the run the previous report cited)."
    ) var since: String?
    @Option(name: .customLong("as-of"), help: "Report as of this time: YYYY-MM-DD (the end of that day, UTC) or an ISO 8601 date-time. Default: now.") var asOf: String?
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Option(name: .customLong("what-if"), help: "How many top exposures get an exact what-if list (0 to skip; each costs a rescore).") var whatIf = 5
    @Flag(help: "Report even when the ledgers do not verify: every section and the header say so (never with --bundle).") var allowUnverified = false
    @OptionGroup var signed: BundleOptions
    @OptionGroup var evidence: BasisOption

    func run() async throws {
        let date = try parseMoment(asOf, "--as-of") ?? SleeperClock.now()
        let maximumAge = try RunAgeLimit.seconds(Invocation.environment)
        try signed.checkTarget(allowUnverified: allowUnverified)
        let progress = ProgressLine()
        defer { progress.finish() }
        progress.update("gathering the review: control statuses, runs, exposures and what-if lists")
        let report = try await connection.withDatabase { db in
            let runs = ScoreRuns(db)
            var sinceRun: Int?
            if let since {
                do { sinceRun = try await runs.resolve(since, since: true) } catch let error as StoreError { throw CommandFailure(message: "--since: \(error)") }
            }
            let report = try await ReviewReportLoader(db).load(
                asOf: date, since: sinceRun, whatIf: max(0, whatIf), maximumRunAge: maximumAge,
                allowUnverified: allowUnverified, basis: evidence.basis)
            try await AuditLog(db).record(
                actor: AuditLog.commandLineActor, action: "report.\(format.rawValue)", target: signed.bundle ?? out,
                detail: report.snapshot.auditDetail(framework: nil))
            return report
        }
        if let warning = report.staleRunWarning { Output.error("warning: \(warning)") }
        let text = format == .html ? ReportHTML.render(report) : ReportMarkdown.render(report)
        if let message = try signed.write(["report.\(format == .html ? "html" : "md")": Data(text.utf8)], snapshot: report.snapshot) {
            Output.print(message + "\n")
        } else if let out {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } catch {
                throw CommandFailure(message: "\(out): cannot be written (\(error.localizedDescription))")
            }
            Output.print("wrote the \(format.rawValue) report to \(out)\n")
        } else {
            Output.print(text)
        }
    }
}
