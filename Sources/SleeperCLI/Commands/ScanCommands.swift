import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

/// `sleeper scan`: Sleeper's own tests of model files and training data, offline.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan model files for code that runs when loaded, or training data for planted triggers.",
        subcommands: [ScanModel.self, ScanDataset.self])
}

/// The report format of a scan's output.
enum ScanOutput: String, ExpressibleByArgument, CaseIterable { case text, json }

extension ScanCommand {
    struct ScanModel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "model",
            abstract: "Scan a model's files (a file or a directory) for serialized code, and record the result as evidence.",
            discussion: HelpText.discussion(
                """
                Each file's format is told from its bytes: pickle (protocols 0-5), PyTorch zip and legacy checkpoints, \
                safetensors, GGUF, ONNX, Keras (.keras, H5), NumPy (.npy, .npz). Every pickle is walked without running \
                it and each callable it imports is judged allowed, suspicious (on neither list) or dangerous. The digest \
                is OpenSSF model signing's (SHA-256 of each file, then over the sorted digests). With --subject the \
                result is recorded as SLP-SERIALIZATION-SCAN evidence bound to that digest; a model whose inventory \
                digest differs is refused (or recorded as stale with --record-stale). \
                Exit status: 0 pass, 3 fail, 1 nothing scanned or recorded.
                """, "scan model"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The model's file or directory.") var path: String
        @Option(help: "Record the result as evidence of this model (model:KEY).") var subject: String?
        @Option(help: "text, or json (the report itself).") var format: ScanOutput = .text
        @Option(help: "Also write the JSON report to this file (readable by `sleeper evidence ingest`).") var report: String?
        @Flag(name: .customLong("record-stale"), help: "Record a scan of other bytes than the inventory's as stale instead of refusing it.") var recordStale = false
        @Option(help: "Rules other than the shipped Controls/report-rules.yaml.") var rules: String?
        @Option(help: "Who ran the scan (kept with the evidence).") var by: String?
        @Option(name: .customLong("max-seconds"), help: "Stop the scan past this many seconds (nothing is recorded of a stopped scan). Default: no limit.")
        var maxSeconds: Int?

        func run() async throws {
            let ruleSet = try reportRules(rules)
            let target = try subject.map { try parseSubject($0, "--subject") }
            if let target, target.kind != .model { throw CommandFailure(message: "--subject: a model scan is evidence of a model (model:KEY), not a \(target.kind.rawValue)") }
            let budget = try scanBudget(maxSeconds)
            let scanned = try ScanBudget.with(budget) { try ModelScanning.scan(path, at: SleeperClock.now()) }
            let json = scanned.json()
            if let report { try json.write(to: URL(fileURLWithPath: report)) }
            let judged = try scanned.judged(by: ruleSet)
            Output.print(format == .json ? String(decoding: json, as: UTF8.self) : ScanListing.model(scanned, judged: judged))
            if let target {
                let ingested = try await connection.withDatabase { db in
                    try await ScoredChanges(db).recordModelScan(
                        scanned, subject: target, rules: ruleSet, recordStale: recordStale, by: by,
                        actor: AuditLog.commandLineActor)
                }
                // Beside a JSON report on standard output, what was recorded goes to standard error.
                let recorded = EvidenceListing.recorded(ingested.records)
                if format == .json { Output.error(recorded) } else { Output.print(recorded) }
                Output.report(ingested.rescore)
            }
            if judged.result == .fail { throw ExitCode(3) }
        }
    }
}

extension ScanCommand {
    struct ScanDataset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dataset",
            abstract: "Mine training data (JSONL) for planted triggers, and record the result as evidence.",
            discussion: HelpText.discussion(
                """
                Reads chat messages, Alpaca instruction/input/output and prompt/completion lines; the FILEs are parts of \
                one dataset. A candidate trigger is an input n-gram (1-4 tokens) in enough rows but few, spread over \
                unrelated inputs, whose rows share an output n-gram that is rare elsewhere (thresholds in \
                Controls/report-rules.yaml, sleeper-dataset-scan). Lines that are not rows are counted, named and \
                skipped. With --subject the result is recorded as SLP-DATA-SCREEN evidence of the dataset, and of \
                each model trained on it: a fail on every one; a pass on a model only when each of its training \
                datasets has passed. Finds lexical triggers only: not triggers of meaning or style, nor those in \
                an already trained model's weights. Exit status: 0 pass, 3 fail, 1 nothing scanned or recorded.
                """, "scan dataset"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The dataset's JSONL file(s).") var files: [String]
        @Option(help: "Record the result as evidence of this dataset (dataset:KEY).") var subject: String?
        @Option(help: "text, or json (the report itself).") var format: ScanOutput = .text
        @Option(help: "Also write the JSON report to this file.") var report: String?
        @Option(help: "Rules other than the shipped Controls/report-rules.yaml.") var rules: String?
        @Option(help: "Who ran the scan (kept with the evidence).") var by: String?
        @Option(name: .customLong("max-seconds"), help: "Stop the scan past this many seconds (nothing is recorded of a stopped scan). Default: no limit.")
        var maxSeconds: Int?

        func run() async throws {
            let ruleSet = try reportRules(rules)
            let budget = try scanBudget(maxSeconds)
            let target = try subject.map { try parseSubject($0, "--subject") }
            if let target, target.kind != .dataset { throw CommandFailure(message: "--subject: a dataset scan is evidence of a dataset (dataset:KEY), not a \(target.kind.rawValue)") }
            let progress = ProgressLine()
            progress.update("mining \(files.count) file(s) for triggers…")
            let scanned = try ScanBudget.with(budget) { try DatasetScanning.scan(files, thresholds: ruleSet.datasetScan, at: SleeperClock.now()) }
            progress.finish()
            let json = scanned.json()
            if let report { try json.write(to: URL(fileURLWithPath: report)) }
            Output.print(format == .json ? String(decoding: json, as: UTF8.self) : ScanListing.dataset(scanned))
            if let target {
                let recorded = try await connection.withDatabase { db in
                    try await ScoredChanges(db).recordDatasetScan(
                        scanned, subject: target, control: ruleSet.datasetScan.control, by: by,
                        actor: AuditLog.commandLineActor)
                }
                var lines = EvidenceListing.recorded(recorded.records)
                lines += recorded.notPropagated.map { "not recorded on model:\($0.model): \($0.why)\n" }.joined()
                if format == .json { Output.error(lines) } else { Output.print(lines) }
                Output.report(recorded.rescore)
            }
            if scanned.result == .fail { throw ExitCode(3) }
        }
    }
}

/// The budget of `--max-seconds` (nil: none).
func scanBudget(_ seconds: Int?) throws -> ScanBudget? {
    guard let seconds else { return nil }
    guard seconds >= 1 else { throw CommandFailure(message: "--max-seconds: at least 1") }
    return ScanBudget(seconds: Double(seconds))
}
