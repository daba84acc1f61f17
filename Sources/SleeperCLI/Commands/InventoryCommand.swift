import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct InventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "List what is stored: models, datasets, agents, credentials or resources; or the models that are likely duplicates.",
        discussion: HelpText.discussion("JSON output is an array of objects with the inventory format's field names, so it can be imported again.", "inventory")
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: FormatOption

    @Argument(help: "models, datasets, agents, credentials or resources; or duplicates: models that are probably one real thing under two keys, with the reason")
    var target: InventoryTarget

    func run() async throws {
        guard case .kind(let kind) = target else {
            let pairs = try await connection.withDatabase { db in try await LikelyDuplicates(db).models() }
            let rows: [[Listing.Cell]] = pairs.map { [.text("model:" + $0.first), .text("model:" + $0.second), .text($0.reason)] }
            Output.print(ListingRenderer.render(Listing(columns: ["first", "second", "reason"], rows: rows), as: output.format))
            return
        }
        let inventory = try await connection.withDatabase { db in try await InventoryStore(db).load([kind]) }
        var listing = InventoryListing.listing(kind, of: inventory)
        if output.format == .table || output.format == .markdown { listing = listing.selecting(InventoryListing.tableColumns(kind)) }
        Output.print(ListingRenderer.render(listing, as: output.format))
    }
}

extension EntityKind: ExpressibleByArgument {}

/// What `sleeper inventory` lists: one kind of entity, or the models that are likely duplicates.
enum InventoryTarget: ExpressibleByArgument, Sendable {
    case kind(EntityKind)
    case duplicates

    init?(argument: String) {
        if argument == "duplicates" { self = .duplicates } else if let kind = EntityKind(rawValue: argument) { self = .kind(kind) } else { return nil }
    }

    static var allValueStrings: [String] { EntityKind.allCases.map(\.rawValue) + ["duplicates"] }
}
