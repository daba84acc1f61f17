import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import the estate: inventory files, AI-BOMs, model cards, credential reports, MCP configs; validated first, written in one transaction.",
        discussion: HelpText.discussion(
            """
            Entities are upserted by key: importing the same file twice changes nothing. An entity's edge lists \
            (derived_from, trained_on, uses_models, delegates_to, holds, grants) replace what was stored for it. \
            Any problem in any file writes nothing; every problem is listed with its file and path.
            """, "import")
    )

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Validate and show what would change, writing nothing.")
    var dryRun = false

    @Flag(help: "Report fields the format does not know as warnings instead of refusing the import.")
    var lenient = false

    @Option(help: "The files' format, instead of telling it from their content: \(SourceFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var from: SourceFormat?

    @Option(help: "The source the files are a snapshot of (default: from the content, e.g. aws:ACCOUNT, or the file name). What the source listed before and no longer lists is removed.")
    var source: String?

    @Flag(name: .customLong("allow-removals"), help: "Let a source's snapshot remove more than --max-removals of what the source listed.")
    var allowRemovals = false

    @Option(name: .customLong("max-removals"), help: "The share of what a source listed that one snapshot may remove, in percent; more is refused unless --allow-removals. (default: 20)")
    var maxRemovals: Double = RemovalGuard.defaultShare * 100

    @Argument(help: "Files: Sleeper inventory (YAML or JSON), CycloneDX JSON, Hugging Face README.md, AWS credential report CSV, MCP client config JSON.")
    var files: [String]

    func run() async throws {
        guard (0...100).contains(maxRemovals) else { throw CommandFailure(message: "--max-removals: a percentage from 0 to 100") }
        let clock = ContinuousClock()
        let started = clock.now
        let progress = ProgressLine()
        let parsed: [ParsedInventory]
        do { parsed = try InventoryFiles.read(files, lenient: lenient, format: from, source: source, progress: progress) } catch {
            progress.finish()
            throw error
        }
        let readTime = clock.now - started
        let warnings = parsed.flatMap(\.warnings)
        if !warnings.isEmpty {
            Output.error("\(warnings.count) warning(s), not stored:\n" + warnings.prefix(InventoryProblems.listed).map { "  " + $0.description }.joined(separator: "\n"))
        }
        let entities = parsed.map { $0.inventory.entityCount }.reduce(0, +)
        progress.update("validating and writing \(entities) entities in one transaction")
        let (summary, elapsed, rescore): (ImportSummary, Duration, ScoredChanges.Rescore?)
        do {
            (summary, elapsed, rescore) = try await connection.withDatabase { db in
                let (summary, rescore) = try await ScoredChanges(db).importInventory(
                    parsed, dryRun: dryRun,
                    removals: RemovalGuard(maximumShare: maxRemovals / 100, allowed: allowRemovals),
                    actor: AuditLog.commandLineActor)
                return (summary, clock.now - started, rescore)
            }
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        Output.print(ImportReport.render(summary, elapsed: elapsed, reading: readTime))
        if let rescore { Output.report(rescore) }
    }
}

/// Reads and parses files, gathering the problems of all of them before giving up.
enum InventoryFiles {
    static func read(
        _ paths: [String], lenient: Bool = false, format: SourceFormat? = nil, source: String? = nil,
        progress: ProgressLine? = nil
    ) throws -> [ParsedInventory] {
        var parsed: [ParsedInventory] = []
        var problems: [InventoryProblem] = []
        for (i, path) in paths.enumerated() {
            progress?.update("reading \(URL(fileURLWithPath: path).lastPathComponent) (\(i + 1) of \(paths.count))", fraction: Double(i) / Double(paths.count))
            guard let data = FileManager.default.contents(atPath: path) else {
                problems.append(InventoryProblem(file: path, path: "", message: "cannot be read (missing or not permitted)"))
                continue
            }
            parsed.append(EstateReader.read(data, file: path, format: format, source: source, lenient: lenient))
        }
        if !problems.isEmpty { throw InventoryProblems(problems) }
        return parsed
    }
}

enum ImportReport {
    static func render(_ s: ImportSummary, elapsed: Duration, reading: Duration) -> String {
        var rows: [[Listing.Cell]] = s.entities.map {
            [.text($0.table), .integer($0.inFile), .integer($0.inserted), .integer($0.updated), .integer($0.unchanged), .null]
        }
        rows += s.edges.map {
            [
                .text($0.table), .integer($0.inFile), .integer($0.added), .integer($0.changed),
                .integer($0.inFile - $0.added - $0.changed), .integer($0.removed),
            ]
        }
        var table = ListingRenderer.table(Listing(columns: ["table", "in files", "new", "changed", "unchanged", "removed"], rows: rows))
        for source in s.sources {
            table +=
                "source \(source.name) (\(source.format)): \(source.entities) listed"
                + (source.removed.isEmpty
                    ? ""
                    : "; removed, no longer listed: " + source.removed.prefix(20).joined(separator: ", ")
                        + (source.removed.count > 20 ? " and \(source.removed.count - 20) more" : ""))
                + (source.kept > 0 ? "; \(source.kept) no longer listed but kept (hand-written or listed by another source)" : "") + "\n"
        }
        for m in s.merges { table += "one model: model:\(m.alias) is model:\(m.canonical) (\(m.reason))\n" }
        for d in s.signers { table += "signers of model:\(d.model): \(d.signers.isEmpty ? "none declared in the file" : d.signers.joined(separator: "; "))\n" }
        for change in s.fieldChanges.prefix(50) { table += "changed \(change)\n" }
        if s.fieldChanges.count > 50 { table += "changed: \(s.fieldChanges.count - 50) more entities listed in the audit entry (sleeper audit)\n" }
        for finding in s.findings.prefix(100) { table += "finding: \(finding)\n" }
        func ms(_ d: Duration) -> Int { Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000) }
        let timing = "\(ms(elapsed)) ms: \(ms(reading)) reading and validating, \(ms(elapsed - reading)) in the database"
        let verdict =
            s.dryRun
            ? "dry run: nothing was written\(s.changedAnything ? "" : "; the import would change nothing") (\(timing))"
            : (s.changedAnything ? "imported in \(timing)" : "nothing changed (\(timing))")
        return table + verdict + "\n"
    }
}

extension SourceFormat: ExpressibleByArgument {}

struct SourcesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sources",
        abstract: "The sources the estate was imported from: format, last import, entities each speaks for, entities removed.",
        discussion: HelpText.discussion("sources"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: FormatOption

    func run() async throws {
        let sources = try await connection.withDatabase { db in try await SourceSnapshots(db).list() }
        Output.print(
            ListingRenderer.render(
                Listing(
                    columns: ["name", "format", "entities", "removed", "imports", "last_imported_at", "last_file"],
                    rows: sources.map {
                        [.text($0.name), .text($0.format), .integer($0.entities), .integer($0.removed), .integer($0.imports), .text(Timestamps.format($0.lastImportedAt)), .text($0.lastFile)]
                    }), as: output.format))
    }
}
