import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import inventory files (YAML or JSON): all are validated first, then written in one transaction.",
        discussion: HelpText.discussion("""
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

    @Argument(help: "Inventory files (.yaml, .yml or .json).")
    var files: [String]

    func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let parsed = try InventoryFiles.read(files, lenient: lenient)
        let readTime = clock.now - started
        let warnings = parsed.flatMap(\.warnings)
        if !warnings.isEmpty {
            Output.error("\(warnings.count) warning(s), not stored:\n" + warnings.prefix(InventoryProblems.listed).map { "  " + $0.description }.joined(separator: "\n"))
        }
        let (summary, elapsed, rescore) = try await connection.withDatabase { db in
            let (summary, rescore) = try await ScoredChanges(db).importInventory(parsed, dryRun: dryRun, actor: AuditLog.commandLineActor)
            return (summary, clock.now - started, rescore)
        }
        Output.print(ImportReport.render(summary, elapsed: elapsed, reading: readTime))
        if let rescore { Output.report(rescore) }
    }
}

/// Reads and parses files, gathering the problems of all of them before giving up.
enum InventoryFiles {
    static func read(_ paths: [String], lenient: Bool = false) throws -> [ParsedInventory] {
        var parsed: [ParsedInventory] = []
        var problems: [InventoryProblem] = []
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                problems.append(InventoryProblem(file: path, path: "", message: "cannot be read (missing or not permitted)"))
                continue
            }
            parsed.append(InventoryReader.readAll(data, file: path, lenient: lenient))
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
            [.text($0.table), .integer($0.inFile), .integer($0.added), .integer($0.changed),
             .integer($0.inFile - $0.added - $0.changed), .integer($0.removed)]
        }
        let table = ListingRenderer.table(Listing(columns: ["table", "in files", "new", "changed", "unchanged", "removed"], rows: rows))
        func ms(_ d: Duration) -> Int { Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000) }
        let timing = "\(ms(elapsed)) ms: \(ms(reading)) reading and validating, \(ms(elapsed - reading)) in the database"
        let verdict = s.dryRun
            ? "dry run: nothing was written\(s.changedAnything ? "" : "; the import would change nothing") (\(timing))"
            : (s.changedAnything ? "imported in \(timing)" : "nothing changed (\(timing))")
        return table + verdict + "\n"
    }
}
