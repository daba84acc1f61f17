import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

/// `sleeper signers`: who may sign a model. A valid signature by anyone else is a failed
/// SLP-SIGNATURE ("signed by X, expected Y").
struct SignersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signers",
        abstract: "The signers a model's signature must come from, per model or per supplier; a signature by anyone else fails SLP-SIGNATURE.",
        discussion: HelpText.discussion(
            """
            A signer is written as `sleeper verify-model` prints it: `key sha256:HEX` (the SHA-256 of the public key's \
            SubjectPublicKeyInfo), `certificate SUBJECT … issued by ISSUER`, or `keyless IDENTITY via PROVIDER`. Each \
            declaration is audited.
            """, "signers"),
        subcommands: [List.self, Trust.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the declared signers.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: FormatOption

        func run() async throws {
            let declared = try await connection.withDatabase { db in try await TrustedSigners(db).all() }
            let rows: [[Listing.Cell]] = declared.map {
                [$0.model.map { .text("model:\($0)") } ?? .text("supplier:\($0.supplier ?? "")"), .text($0.signer), .text($0.by), .text(Timestamps.format($0.at))]
            }
            Output.print(ListingRenderer.render(Listing(columns: ["for", "signer", "declared_by", "declared_at"], rows: rows), as: output.format))
        }
    }

    struct Trust: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "trust", abstract: "Declare a signer trusted for a model, or for every model of a supplier.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The model (its key).") var model: String?
        @Option(help: "The supplier, as sources write it.") var supplier: String?
        @Option(help: "The signer, as `sleeper verify-model` prints it.") var signer: String
        @Option(help: "Who declares it.") var by: String

        func run() async throws {
            guard (model == nil) != (supplier == nil) else { throw CommandFailure(message: "give --model or --supplier (one of them)") }
            try await connection.withDatabase { db in
                try await TrustedSigners(db).trust(model: model, supplier: supplier, signer: signer, by: by, actor: AuditLog.commandLineActor)
            }
            Output.print("trusted \(signer) for \(model.map { "model:\($0)" } ?? "supplier \(supplier!)")\n")
        }
    }
}
