import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the evidence ledger and the audit log in full: both hash chains, stored precision, canonical artifacts, append-only triggers; exit 1 naming each problem.", discussion: HelpText.discussion("verify"))
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let outcome = try await connection.withDatabase { db in try await LedgerVerifier(db).verify(full: true) }
        guard outcome.verified else {
            throw CommandFailure(message: "the ledgers do not verify:\n  " + outcome.problems.joined(separator: "\n  "))
        }
        Output.print("the evidence ledger verifies: \(outcome.evidenceRecords) records, head \(outcome.evidenceHead)\n"
                     + "the audit log verifies: \(outcome.auditEntries) entries; the append-only triggers are in place\n")
    }
}

struct GapsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gaps",
        abstract: "Controls that apply to a subject and lack valid evidence: missing, failed, expired, or bound to an old digest.", discussion: HelpText.discussion("gaps"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: FormatOption
    @Option(help: "Group by this framework's items (atlas, owasp-agentic, nist-ai-rmf, owasp-nhi, owasp-llm).") var framework: String?
    @Option(help: "Only this subject (KIND:KEY).") var subject: String?
    @Option(help: "Only subjects with this owner.") var owner: String?
    @Option(name: .customLong("as-of"), help: "Answer as the ledger stood at this time: YYYY-MM-DD (the end of that day, UTC) or an ISO 8601 date-time, e.g. 2026-09-30. Default: now.") var asOf: String?
    @OptionGroup var evidence: BasisOption
    @Flag(help: "List every gap, one row per subject and control, instead of the summary (the default without --subject or --owner).") var list = false
    @Option(help: "With a listing: at most this many rows.") var limit: Int?
    @Option(help: "With a listing: skip this many rows first.") var offset: Int = 0

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
        if offset < 0 { throw ValidationError("--offset must not be negative, got \(offset)") }
    }

    func run() async throws {
        let subject = try self.subject.map { try parseSubject($0, "--subject") }
        let date = try parseMoment(asOf, "--as-of") ?? SleeperClock.now()
        // An estate-wide listing is millions of rows at a million credentials: without a filter
        // or --list, the answer is how many gaps of each kind each control has.
        let listing = list || subject != nil || owner != nil || limit != nil || offset > 0
        let (gaps, summary, framework) = try await connection.withDatabase { db in
            let lookup = ReferenceLookup(db)
            var framework: String?
            if let asked = self.framework { framework = try await lookup.framework(asked) }
            if let subject { try await lookup.requireSubject(subject) }
            if let owner { try await lookup.requireOwner(owner) }
            let queries = EvidenceQueries(db)
            guard listing else { return ([EvidenceQueries.Gap](), try await queries.gapSummary(asOf: date, basis: evidence.basis), framework) }
            // Rows by item are paged after grouping; rows by subject in the query.
            let paged = framework == nil
            return (try await queries.gaps(asOf: date, framework: framework, subject: subject, owner: owner, basis: evidence.basis,
                                           limit: paged ? limit : nil, offset: paged ? offset : 0), [GapCount](), framework)
        }
        guard listing else {
            var text = ListingRenderer.render(EvidenceListing.gapSummary(summary, framework: framework), as: output.format)
            if output.format == .table || output.format == .markdown {
                let counted = summary.filter { c in framework.map { f in c.items.contains { $0.hasPrefix(f + ":") } } ?? true }
                let total = counted.map(\.subjects).reduce(0, +)
                text += "\n\(ReviewReport.n(total)) gap(s)\(framework.map { " in controls mapped to \($0)" } ?? "") as of \(Timestamps.format(date)); every row: sleeper gaps --list (a page: --limit N --offset M; one subject: --subject KIND:KEY)\n"
            }
            Output.print(text)
            return
        }
        var rows = EvidenceListing.gaps(gaps, byFramework: framework != nil)
        if framework != nil { rows.rows = Array(rows.rows.dropFirst(offset).prefix(limit ?? Int.max)) }
        Output.print(ListingRenderer.render(rows, as: output.format))
    }
}

struct CoverageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coverage",
        abstract: "For each item of a framework: how many applicable subjects have valid evidence of a mapped control.", discussion: HelpText.discussion("coverage"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: FormatOption
    @Option(help: "The framework (atlas, owasp-agentic, nist-ai-rmf, owasp-nhi, owasp-llm).") var framework: String
    @Option(name: .customLong("as-of"), help: "Answer as the ledger stood at this time: YYYY-MM-DD (the end of that day, UTC) or an ISO 8601 date-time, e.g. 2026-09-30. Default: now.") var asOf: String?
    @OptionGroup var evidence: BasisOption

    func run() async throws {
        let date = try parseMoment(asOf, "--as-of") ?? SleeperClock.now()
        let (rows, framework) = try await connection.withDatabase { db in
            let framework = try await ReferenceLookup(db).framework(self.framework)
            return (try await EvidenceQueries(db).coverage(framework: framework, asOf: date, basis: evidence.basis), framework)
        }
        Output.print(EvidenceListing.coverage(rows, framework: framework, asOf: date, format: output.format))
    }
}
