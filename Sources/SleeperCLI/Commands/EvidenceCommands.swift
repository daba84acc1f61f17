import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct EvidenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence",
        abstract: "Record control evidence in the append-only ledger, and read it back.",
        subcommands: [Add.self, Import.self, IngestReport.self, Withdraw.self, List.self, History.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that a control was checked on a subject, with the result.",
            discussion: HelpText.discussion("Artifact files are hashed (SHA-256); their hash, size and name are stored, never their content.", "evidence add"))
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "KIND:KEY, e.g. model:acme-support-ft or credential:payments-api-key.") var subject: String
        @Option(help: "A control ID from `sleeper controls`.") var control: String
        @Option(help: "pass, fail or not-applicable.") var result: EvidenceResult
        @Option(help: "When the check was made (default: now) (YYYY-MM-DD means the start of that day UTC; or an ISO 8601 date-time).") var effective: String?
        @Option(help: "Until when it counts (default: the control's validity from the effective date) (YYYY-MM-DD means the end of that day UTC; or an ISO 8601 date-time).") var expires: String?
        @Option(parsing: .upToNextOption, help: "Files that prove it (hashed, not stored).") var artifact: [String] = []
        @Option(help: "Where the full evidence lives.") var uri: String?
        @Option(help: "Who checked.") var by: String?
        @Option(help: "A short note.") var note: String?
        @Option(help: "The id of an earlier record this one corrects.") var supersedes: Int?
        @Flag(help: "Allow an --expires more than twice the control's validity after the effective date (audited).") var allowLongValidity = false

        func run() async throws {
            let subject = try parseSubject(subject, "--subject")
            var draft = EvidenceDraft(
                subject: subject, control: control, result: result,
                effective: try parseDate(effective, "--effective"), expires: try parseMoment(expires, "--expires"),
                artifactPaths: artifact, uri: uri, recordedBy: by, note: note, supersedes: supersedes,
                file: "command line", path: "")
            draft.artifacts = try ArtifactFiles.hash([draft], relativeTo: nil)[0].artifacts
            draft.allowLongValidity = allowLongValidity
            let (records, rescore) = try await connection.withDatabase { db in
                try await ScoredChanges(db).recordEvidence([draft], actor: AuditLog.commandLineActor)
            }
            Output.print(EvidenceListing.recorded(records))
            Output.report(rescore)
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a YAML or JSON list of evidence, all or nothing.",
            discussion: HelpText.discussion(
                "Each entry has the fields of `evidence add`: subject, control, result, effective, expires, artifacts (paths relative to the file), uri, by, note, supersedes.", "evidence import"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Evidence file.") var file: String
        @Flag(help: "Allow expiries more than twice a control's validity after the effective date (audited).") var allowLongValidity = false
        @Flag(help: "Report fields an evidence record does not have as warnings (not stored) instead of refusing the file.") var lenient = false

        func run() async throws {
            let data = try readInputFile(file)
            var (drafts, problems, warnings) = EvidenceReader.read(data, file: file, lenient: lenient)
            if !warnings.isEmpty {
                Output.error("\(warnings.count) warning(s), not stored:\n" + warnings.prefix(InventoryProblems.listed).map { "  " + $0.description }.joined(separator: "\n"))
            }
            for i in drafts.indices { drafts[i].allowLongValidity = allowLongValidity }
            var hashed: [EvidenceDraft] = []
            var artifactProblems: [InventoryProblem] = []
            do { hashed = try ArtifactFiles.hash(drafts, relativeTo: URL(fileURLWithPath: file).deletingLastPathComponent()) } catch let p as InventoryProblems { artifactProblems = p.problems }
            if !(problems + artifactProblems).isEmpty { throw InventoryProblems(problems + artifactProblems) }
            let (records, rescore) = try await connection.withDatabase { db in
                try await ScoredChanges(db).recordEvidence(hashed, actor: AuditLog.commandLineActor)
            }
            Output.print(EvidenceListing.recorded(records))
            Output.report(rescore)
        }
    }

    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw a record: appends a record that supersedes it without a result.", discussion: HelpText.discussion("evidence withdraw"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The id of the record to withdraw.") var id: Int
        @Option(help: "Who withdraws it.") var by: String?
        @Option(help: "Why.") var note: String?

        func run() async throws {
            let (records, rescore) = try await connection.withDatabase { db in
                try await ScoredChanges(db).withdrawEvidence(id: id, by: by, note: note, actor: AuditLog.commandLineActor)
            }
            Output.print(EvidenceListing.recorded(records))
            Output.report(rescore)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List evidence records in force (or all, with --include-superseded).", discussion: HelpText.discussion("evidence list"))
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: FormatOption
        @Option(help: "Only this subject (KIND:KEY).") var subject: String?
        @Option(help: "Only this control.") var control: String?
        @Flag(help: "Also list records that were superseded or withdrawn, and the withdrawals.") var includeSuperseded = false

        func run() async throws {
            let subject = try self.subject.map { try parseSubject($0, "--subject") }
            let records = try await connection.withDatabase { db in
                try await EvidenceLedger(db).listed(subject: subject, control: control)
            }
            Output.print(ListingRenderer.render(EvidenceListing.records(records, includeSuperseded: includeSuperseded), as: output.format))
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every record about one subject, superseded ones included, oldest first.", discussion: HelpText.discussion("evidence history"))
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: FormatOption
        @Argument(help: "KIND:KEY") var subject: String

        func run() async throws {
            let subject = try parseSubject(subject, "subject")
            let records = try await connection.withDatabase { db in
                try await EvidenceLedger(db).listed(subject: subject, control: nil)
            }
            Output.print(ListingRenderer.render(EvidenceListing.records(records, includeSuperseded: true), as: output.format))
        }
    }
}

extension EvidenceResult: ExpressibleByArgument {}

func parseSubject(_ text: String, _ option: String) throws -> Subject {
    guard let subject = Subject(text) else {
        throw CommandFailure(message: "\(option): '\(text)' is not KIND:KEY with KIND one of model, dataset, agent, credential")
    }
    return subject
}

/// An "as of" time: a day alone is the end of that day, UTC.
func parseMoment(_ text: String?, _ option: String) throws -> Date? {
    guard let text else { return nil }
    guard let date = Timestamps.moment(text) else {
        throw CommandFailure(message: "\(option): '\(text)' is not a date (YYYY-MM-DD, meaning the end of that day UTC, or an ISO 8601 date-time)")
    }
    return date
}

/// A time something starts from (`--since`, `--effective`): a day alone is the start of that day, UTC.
/// The rule (docs/evidence.md, "Dates"): a day alone is the end of that day for a point something
/// holds until or as of (`--as-of`, `--until`, `--expires`, due dates) and the start of that day
/// for a point something runs from (`--since`, `--effective`).
func parseDate(_ text: String?, _ option: String) throws -> Date? {
    guard let text else { return nil }
    guard let date = Timestamps.parse(text) else { throw CommandFailure(message: "\(option): '\(text)' is not a date (YYYY-MM-DD, meaning the start of that day UTC, or an ISO 8601 date-time)") }
    return date
}

/// Hashes the artifact files drafts name; an unreadable file is a located problem.
enum ArtifactFiles {
    static func hash(_ drafts: [EvidenceDraft], relativeTo base: URL?) throws -> [EvidenceDraft] {
        var problems: [InventoryProblem] = []
        let out = drafts.map { draft -> EvidenceDraft in
            var draft = draft
            // Artifacts stated by hash stay; files named by path are read and hashed.
            draft.artifacts += draft.artifactPaths.enumerated().compactMap { index, path in
                let url = path.hasPrefix("/") || base == nil ? URL(fileURLWithPath: path) : base!.appending(path: path)
                guard let data = FileManager.default.contents(atPath: url.path) else {
                    let field = draft.path.isEmpty ? "artifact" : "\(draft.path).artifacts[\(index)]"
                    problems.append(InventoryProblem(file: draft.file, path: field, message: "cannot read artifact '\(path)'"))
                    return nil
                }
                return Artifact.of(name: url.lastPathComponent, data: data)
            }
            return draft
        }
        if !problems.isEmpty { throw InventoryProblems(problems) }
        return out
    }
}
