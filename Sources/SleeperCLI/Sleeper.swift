import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

public struct Sleeper: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sleeper",
        abstract: "Govern backdoor risk in AI systems: inventory, control catalogs, evidence and the credentials AI agents hold.",
        version: SleeperVersion.current,
        subcommands: [
            ImportCommand.self, SourcesCommand.self, InventoryCommand.self, FrameworksCommand.self, ControlsCommand.self,
            EvidenceCommand.self, GapsCommand.self, CoverageCommand.self, VerifyCommand.self,
            ScoreCommand.self, ExposureCommand.self, ExplainCommand.self,
            RecallCommand.self, ReleaseCommand.self, ActionsCommand.self, AcceptCommand.self, SuppliersCommand.self, SignersCommand.self,
            ReportCommand.self, ExportCommand.self, VerifyBundleCommand.self, VerifyModelCommand.self, ScanCommand.self, KeysCommand.self,
            ObserveCommand.self, FindingsCommand.self, ServeCommand.self, TokenCommand.self, AuditCommand.self,
            CatalogCommand.self, MigrateCommand.self, DbCommand.self,
        ]
    )
    public init() {}

    /// Runs the command line; Sleeper's own errors print as one clear message and exit 1.
    public static func main(arguments: [String]? = nil) async {
        TrapExit.install()
        do {
            // A malformed SLEEPER_NOW would silently fall back to the real clock; refuse it first.
            try SleeperClock.check()
            _ = try RunAgeLimit.seconds()
            var command = try parseAsRoot(arguments)
            try ArgumentSecrets.check(command)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error where sleeperMessage(error) != nil {
            let status = exitStatus(error)
            var message = sleeperMessage(error) ?? ""
            // 75 promises the command can simply be run again: say so, whichever way the
            // database went away (unreachable before connecting, or lost before the commit).
            if status == 75 && !message.contains("nothing was written") {
                message += "; nothing was written. Run the command again once the database is back"
            }
            Output.error("sleeper: \(message)")
            Foundation.exit(status)
        } catch {
            if StoreError.isConnectionLoss(error) {
                Output.error("sleeper: the connection to PostgreSQL was lost (\(StoreError.describe(error))); nothing was written. Run the command again once the database is back")
                Foundation.exit(75)
            }
            if String(describing: type(of: error)).hasPrefix("PSQLError") {
                Output.error("sleeper: database error: \(StoreError.describe(error))")
                Foundation.exit(1)
            }
            // The argument parser quotes what it could not parse: never a secret someone passed.
            let arguments = arguments ?? Array(CommandLine.arguments.dropFirst())
            let message = redactingSecrets(in: fullMessage(for: error), arguments: arguments)
            let code = exitCode(for: error)
            // --help and --version end the parse "with an error" that is their answer, on standard output.
            if code == .success { Output.print(message.hasSuffix("\n") ? message : message + "\n") } else if !message.isEmpty { Output.error(message) }
            Foundation.exit(code.rawValue)
        }
    }
}

/// 75 (EX_TEMPFAIL, from sysexits.h): the database went away and nothing was written, so the
/// same command can be run again; 76: it went away while committing and whether the change
/// stands is unknown until it is back; 1: any other error.
func exitStatus(_ error: any Error) -> Int32 {
    switch error as? StoreError {
    case .connectionLost?, .lostBeforeCommit?, .unreachable?, .timedOut?: return 75
    case .commitUnknown?, .outcomeUnknown?: return 76
    default: return 1
    }
}

/// The message of an error Sleeper has already put into words, or nil for any other error.
func sleeperMessage(_ error: any Error) -> String? {
    switch error {
    case let failure as CommandFailure: return failure.message
    case is InventoryProblems, is StoreError, is ConnectionSettingsError, is UnexpectedRowValue, is ClockSettingError: return "\(error)"
    default: return nil
    }
}

/// `message` with every argument that looks like secret material (or any line of one) replaced.
func redactingSecrets(in message: String, arguments: [String]) -> String {
    var out = message
    for argument in arguments where SecretScanner.secretKind(of: argument, field: "argument") != nil || argument.contains("PRIVATE KEY") {
        out = out.replacingOccurrences(of: argument, with: "[secret material, not shown]")
        for line in argument.split(separator: "\n") where line.count >= 8 {
            out = out.replacingOccurrences(of: String(line), with: "[secret material, not shown]")
        }
    }
    return out
}

/// A failure the command has already put into words.
struct CommandFailure: Error {
    var message: String
}
