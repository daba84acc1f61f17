import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct InventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "List what is stored: models, datasets, agents, credentials or resources.",
        discussion: HelpText.discussion("JSON output is an array of objects with the inventory format's field names, so it can be imported again.", "inventory")
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: FormatOption

    @Argument(help: "models, datasets, agents, credentials or resources")
    var kind: EntityKind

    func run() async throws {
        let inventory = try await connection.withDatabase { db in try await InventoryStore(db).load([kind]) }
        var listing = InventoryListing.listing(kind, of: inventory)
        if output.format == .table || output.format == .markdown { listing = listing.selecting(InventoryListing.tableColumns(kind)) }
        Output.print(ListingRenderer.render(listing, as: output.format))
    }
}

extension EntityKind: ExpressibleByArgument {}
