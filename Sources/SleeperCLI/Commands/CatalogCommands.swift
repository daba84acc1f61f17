import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct FrameworksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frameworks",
        abstract: "List the frameworks Sleeper maps to, with edition, item counts and licence.", discussion: HelpText.discussion("frameworks"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: FormatOption

    func run() async throws {
        let rows = try await connection.withDatabase { db in try await CatalogQueries(db).frameworks() }
        Output.print(
            ListingRenderer.render(
                CatalogListing.frameworks(
                    rows.map {
                        (id: $0.id, name: $0.name, edition: $0.edition, items: $0.items, mapped: $0.mappedItems, licence: $0.licence)
                    }), as: output.format))
    }
}

struct ControlsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controls",
        abstract: "List Sleeper's controls, or a framework's items with --framework; `controls show ID` for one.",
        subcommands: [List.self, Show.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List Sleeper's controls, or the items of one framework.", discussion: HelpText.discussion("controls list"))
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: FormatOption
        @Option(help: "A framework ID from `sleeper frameworks` (atlas, owasp-agentic, nist-ai-rmf, owasp-nhi, owasp-llm, …).")
        var framework: String?

        func run() async throws {
            let catalog = try await connection.withDatabase { db in try await CatalogQueries(db).catalog() }
            var listing: Listing
            if let framework {
                guard let f = catalog.framework(matching: framework) else { throw CommandFailure(message: catalog.unknownFramework(framework)) }
                listing = CatalogListing.items(f, catalog: catalog)
                if output.format == .table { listing = listing.selecting(["id", "name", "kind", "parent", "controls"]) }
            } else {
                listing = CatalogListing.controls(catalog)
                if output.format == .table { listing = listing.selecting(["id", "name", "applies_to", "validity_days"]) }
            }
            Output.print(ListingRenderer.render(listing, as: output.format))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one control or framework item and everything it maps to, both ways.", discussion: HelpText.discussion("controls show"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "A control ID (SLP-…) or a framework item ID (ASI04, A2, AML.T0018, GOVERN 6.1, NHI7, LLM04:2025, …).")
        var id: String

        func run() async throws {
            let catalog = try await connection.withDatabase { db in try await CatalogQueries(db).catalog() }
            guard let text = CatalogListing.describe(id, in: catalog) else {
                let known = catalog.controls.map(\.id) + catalog.frameworks.flatMap { $0.items.map(\.id) }
                throw CommandFailure(message: "no control or framework item has the ID '\(id)'\(NearestName.hint(for: id, among: known))")
            }
            Output.print(text)
        }
    }
}

struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Load catalogs: the shipped ones (sync), or a complete MITRE ATLAS data file.",
        subcommands: [Sync.self, ImportAtlas.self]
    )

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load the catalogs shipped in Controls/ (sleeper migrate does this too).", discussion: HelpText.discussion("catalog sync"))
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let result = try await connection.withDatabase { db in try await CatalogStore(db).syncBundled(force: true) }
            Output.print("synced \(result.frameworks) frameworks (\(result.items) items), \(result.controls) controls, \(result.mappings) mappings\n")
        }
    }

    struct ImportAtlas: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-atlas",
            abstract: "Load a complete official ATLAS data file (5.x, or format-version 6) as its own framework edition.", discussion: HelpText.discussion("catalog import-atlas"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "ATLAS.yaml as published by MITRE.") var file: String

        func run() async throws {
            let data = try readInputFile(file)
            let framework = try AtlasReader.read(data, file: file).get()
            try await connection.withDatabase { db in try await CatalogStore(db).importFramework(framework) }
            let count = { (kind: String) in framework.items.filter { $0.kind == kind }.count }
            Output.print(
                """
                imported \(framework.id): ATLAS \(framework.edition) with \(count("tactic")) tactics, \(count("technique")) techniques, \
                \(count("sub-technique")) sub-techniques, \(count("mitigation")) mitigations, \
                \(framework.items.reduce(0) { $0 + $1.mitigates.count }) mitigation links

                """)
        }
    }
}
