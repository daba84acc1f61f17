import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

extension EvidenceCommand {
    /// `sleeper evidence ingest`: a model-testing tool's report becomes one evidence record.
    struct IngestReport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ingest",
            abstract: "Record a testing tool's report as evidence (modelscan, fickling, picklescan, garak, promptfoo, CycloneDX declarations).",
            discussion: HelpText.discussion(
                """
                FORMAT is told from the file when left out. The report's rule (Controls/report-rules.yaml, or --rules) \
                decides pass or fail; its time is the evidence's effective date; its SHA-256 is kept as the artifact. \
                A report about files is bound to their digest: the model at --model-path (or summary.input_path of a \
                modelscan report, when it is on this machine) is hashed, or --digest states it. A report about other \
                bytes than the model's digest in the inventory is refused, or with --record-stale recorded as stale. \
                Exit status: 0 recorded pass, 3 recorded fail, 1 nothing recorded.
                """, "evidence ingest"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "[FORMAT] FILE: the report, after its format (\(ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))) if given.")
        var arguments: [String]
        @Option(help: "The model the report is about (model:KEY), or for CycloneDX declarations any KIND:KEY.") var subject: String
        @Option(name: .customLong("model-path"), help: "The model's file or directory that was tested; hashed to bind the evidence.") var modelPath: String?
        @Option(help: "The digest of the tested bytes (sha256:HEX), when the files are not here.") var digest: String?
        @Flag(name: .customLong("record-stale"), help: "Record a report about other bytes than the model's as stale instead of refusing it.") var recordStale = false
        @Option(help: "For CycloneDX declarations: the control the attestation proves (default: the requirement's identifier).") var control: String?
        @Option(help: "Rules other than the shipped Controls/report-rules.yaml.") var rules: String?
        @Option(name: .customLong("report-timezone"), help: "The zone of a report time written without one (default: the rules', UTC).") var reportTimezone: String?
        @Option(help: "When the test ran: required for a report that states no time (fickling, picklescan). YYYY-MM-DD (the start of that day, UTC) or an ISO 8601 date-time.") var effective: String?
        @Option(help: "Who ran the test (kept with the evidence).") var by: String?

        func run() async throws {
            guard (1...2).contains(arguments.count) else { throw CommandFailure(message: "give the report, optionally after its format: [FORMAT] FILE") }
            var format: ReportFormat?
            if arguments.count == 2 {
                guard let f = ReportFormat(rawValue: arguments[0]) else {
                    throw CommandFailure(message: "'\(arguments[0])' is not a report format (\(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                format = f
            }
            let path = arguments[arguments.count - 1]
            let data = try readInputFile(path)
            let target = try parseSubject(subject, "--subject")
            var ruleSet = try reportRules(rules)
            if let reportTimezone {
                guard let zone = ReportTime.zone(reportTimezone) else { throw CommandFailure(message: "--report-timezone: '\(reportTimezone)' is not a time zone (Europe/Paris, UTC, +02:00)") }
                ruleSet.zoneless = zone
                ruleSet.zonelessName = reportTimezone
            }
            // What the report was about, established here where the files are.
            var tested = TestedBytes.notNamed
            var fileArtifacts: [Artifact] = []
            if let digest {
                guard modelPath == nil else { throw CommandFailure(message: "--model-path and --digest: give one or the other") }
                guard digest.range(of: #"^sha256:[0-9a-fA-F]{64}$"#, options: .regularExpression) != nil else {
                    throw CommandFailure(message: "--digest: '\(digest)' is not sha256: and 64 hex digits")
                }
                tested = .digest(digest.lowercased(), how: "stated with --digest")
            } else if let modelPath {
                (tested, fileArtifacts) = try Self.hashed(modelPath)
            }
            // A report that states no time needs --effective: the file's modification time would
            // let the order files were copied in decide which verdict is the latest.
            var fallback: (Date, String)?
            if let effective {
                guard let date = Timestamps.parse(effective) else { throw CommandFailure(message: "--effective: '\(effective)' is not a date (YYYY-MM-DD or ISO 8601)") }
                fallback = (date, "the time given with --effective")
            }
            let context = ScoredChanges.ReportContext(
                subject: target, tested: tested, fileArtifacts: fileArtifacts, recordStale: recordStale,
                fallback: fallback, by: by
            ) { reported in
                FileManager.default.fileExists(atPath: reported) ? try Self.hashed(reported) : nil
            }
            let ingested = try await connection.withDatabase { db in
                try await ScoredChanges(db).ingestReport(
                    data, file: path, format: format, control: control, rules: ruleSet, context: context,
                    actor: AuditLog.commandLineActor)
            }
            Output.print(EvidenceListing.ingested(ingested.report) + EvidenceListing.recorded(ingested.records))
            Output.report(ingested.rescore)
            if ingested.report.result == .fail { throw ExitCode(3) }
        }

        /// The model at `location` (a file or a directory): its digest, and its files' hashes as artifacts.
        static func hashed(_ location: String) throws -> (TestedBytes, [Artifact]) {
            let model = try FileDigests.model(at: location)
            return (
                .digest(model.digest, how: "the \(model.files.count) file(s) at \(location), hashed when recorded"),
                model.files.keys.sorted().prefix(100).compactMap { name in model.files[name].map { Artifact(name: name, sha256: $0, size: 0) } }
            )
        }
    }
}
