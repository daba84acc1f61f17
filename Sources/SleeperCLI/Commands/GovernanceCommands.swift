import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the evidence ledger and the audit log in full: both hash chains, stored precision, canonical artifacts, append-only triggers; exit 1 naming each problem.",
        discussion: HelpText.discussion("verify"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .customLong("expect-head"), help: "An evidence head kept elsewhere, ID:HASH as printed by an earlier `verify`: the chain must still pass through it.")
    var expectHead: String?
    @Option(name: .customLong("expect-audit-head"), help: "An audit head kept elsewhere, SEQ:HASH: the audit log must still pass through it.")
    var expectAuditHead: String?
    @Option(help: "Acknowledge, with this reason, that the ledgers were rewritten behind their verified heads (a shrink or re-hash): audited; the chains must verify on their own.")
    var acknowledge: String?

    func run() async throws {
        let (outcome, kept) = try await connection.withDatabase { db in
            let verifier = LedgerVerifier(db)
            let outcome: LedgerVerifier.Outcome
            if let acknowledge { outcome = try await verifier.acknowledge(reason: acknowledge, actor: AuditLog.commandLineActor) } else { outcome = try await verifier.verify() }
            var kept: [String] = []
            if let expectHead, let problem = try await verifier.expectHead(expectHead, audit: false) { kept.append(problem) }
            if let expectAuditHead, let problem = try await verifier.expectHead(expectAuditHead, audit: true) { kept.append(problem) }
            return (outcome, kept)
        }
        guard outcome.verified, kept.isEmpty else {
            let acknowledgeable = !outcome.checkpointProblems.isEmpty && outcome.problems.count == outcome.checkpointProblems.count
            throw CommandFailure(
                message: "the ledgers do not verify:\n  " + (outcome.problems + kept).joined(separator: "\n  ")
                    + (acknowledgeable ? "\n(if the rewrite is known and intended, an admin acknowledges it: sleeper verify --acknowledge REASON)" : ""))
        }
        if acknowledge != nil, !outcome.checkpointProblems.isEmpty {
            Output.print("acknowledged (audited): \(outcome.checkpointProblems.joined(separator: "; "))\n")
        }
        Output.print(
            "the evidence ledger verifies: \(outcome.evidenceRecords) records, head \(outcome.evidenceRecords):\(outcome.evidenceHead)\n"
                + "the audit log verifies: \(outcome.auditEntries) entries, head \(outcome.auditEntries):\(outcome.auditHead)\n"
                + "the append-only triggers and their functions are in place\n"
                + "keep the heads elsewhere; `sleeper verify --expect-head ID:HASH --expect-audit-head SEQ:HASH` checks the chains still pass through them\n")
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
    @Option(name: .customLong("as-of"), help: "Answer as the ledger stood at this time: YYYY-MM-DD (the end of that day, UTC) or an ISO 8601 date-time, e.g. 2026-09-30. Default: now.") var asOf:
        String?
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
            return (
                try await queries.gaps(
                    asOf: date, framework: framework, subject: subject, owner: owner, basis: evidence.basis,
                    limit: paged ? limit : nil, offset: paged ? offset : 0), [GapCount](), framework
            )
        }
        guard listing else {
            var text = ListingRenderer.render(EvidenceListing.gapSummary(summary, framework: framework), as: output.format)
            if output.format == .table || output.format == .markdown {
                let counted = summary.filter { c in framework.map { f in c.items.contains { $0.hasPrefix(f + ":") } } ?? true }
                let total = counted.map(\.subjects).reduce(0, +)
                text +=
                    "\n\(ReviewReport.n(total)) gap(s)\(framework.map { " in controls mapped to \($0)" } ?? "") as of \(Timestamps.format(date)); every row: sleeper gaps --list (a page: --limit N --offset M; one subject: --subject KIND:KEY)\n"
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
    @Option(name: .customLong("as-of"), help: "Answer as the ledger stood at this time: YYYY-MM-DD (the end of that day, UTC) or an ISO 8601 date-time, e.g. 2026-09-30. Default: now.") var asOf:
        String?
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
