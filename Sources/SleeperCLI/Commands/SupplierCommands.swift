import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

/// `sleeper suppliers`: the suppliers the organisation declares as its own or allowed.
struct SuppliersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppliers",
        abstract: "The suppliers the organisation declares as its own or allowed: their models are not scored as unapproved third parties.",
        discussion: HelpText.discussion(
            """
            A model whose supplier is declared here (by name, case aside) carries no third_party_not_allowed term; \
            `explain` names the declaration. Each change is audited and rescores the models of that supplier.
            """, "suppliers"),
        subcommands: [List.self, Declare.self, Withdraw.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the declared suppliers.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: FormatOption

        func run() async throws {
            let suppliers = try await connection.withDatabase { db in try await OrganisationSuppliers(db).list() }
            let rows: [[Listing.Cell]] = suppliers.map {
                [.text($0.name), .text($0.relation.rawValue), .text($0.by), .text(Timestamps.format($0.at)), .text($0.reason)]
            }
            Output.print(ListingRenderer.render(Listing(columns: ["name", "relation", "declared_by", "declared_at", "reason"], rows: rows), as: output.format))
        }
    }

    struct Declare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "declare", abstract: "Declare a supplier as the organisation's own, or allowed.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The supplier's name, as sources write it (\"Acme ML Platform\").") var name: String
        @Flag(help: "The organisation itself (first party).") var own = false
        @Flag(help: "A third party the organisation has approved.") var allowed = false
        @Option(help: "Who declares it.") var by: String
        @Option(help: "Why.") var reason: String

        func run() async throws {
            guard own != allowed else { throw CommandFailure(message: "give --own or --allowed (one of them)") }
            let relation: OrganisationSuppliers.Relation = own ? .own : .allowed
            let rescore = try await connection.withDatabase { db in
                try await OrganisationSuppliers(db).declare(name, relation, by: by, reason: reason, actor: AuditLog.commandLineActor)
            }
            Output.print("declared \(name): \(relation.rawValue)\n")
            if let rescore { Output.report(rescore) }
        }
    }

    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "withdraw", abstract: "Withdraw a supplier's declaration: its models are third parties again.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The supplier's name.") var name: String
        @Option(help: "Who withdraws it.") var by: String
        @Option(help: "Why.") var reason: String

        func run() async throws {
            let rescore = try await connection.withDatabase { db in
                try await OrganisationSuppliers(db).withdraw(name, by: by, reason: reason, actor: AuditLog.commandLineActor)
            }
            Output.print("withdrew \(name)\n")
            if let rescore { Output.report(rescore) }
        }
    }
}
