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

    /// Runs the command line as a process: its arguments, environment and standard streams;
    /// exits with the run's status.
    public static func main(arguments: [String]? = nil) async {
        TrapExit.install()
        let status = await run(
            arguments ?? Array(CommandLine.arguments.dropFirst()),
            invocation: Invocation(environment: ProcessInfo.processInfo.environment))
        Foundation.exit(status)
    }

    /// Runs one command line and returns its exit status; nothing in the command tree exits the
    /// process. Sleeper's own errors print as one clear message (status 1, or 75/76 when the
    /// database went away). `invocation` is the run's environment and output: the process's,
    /// or — run in process, as the tests do — its own, clock included (`SLEEPER_NOW`).
    public static func run(_ arguments: [String], invocation: Invocation) async -> Int32 {
        await Invocation.$current.withValue(invocation) {
            // A malformed SLEEPER_NOW would silently fall back to the real clock; refuse it first.
            let clock: SleeperClock.Setting
            do { clock = try SleeperClock.Setting.from(invocation.environment) } catch {
                Output.error("sleeper: \(error)")
                return 1
            }
            return await SleeperClock.$scoped.withValue(clock) { await execute(arguments) }
        }
    }

    static func execute(_ arguments: [String]) async -> Int32 {
        do {
            _ = try RunAgeLimit.seconds(Invocation.environment)
            var command = try parseAsRoot(arguments)
            try ArgumentSecrets.check(command)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let error where sleeperMessage(error) != nil {
            let status = exitStatus(error)
            var message = sleeperMessage(error) ?? ""
            // 75 promises the command can simply be run again: say so, whichever way the
            // database went away (unreachable before connecting, or lost before the commit).
            if status == 75 && (error as? StoreError)?.saysNothingWritten != true {
                message += "; nothing was written. Run the command again once the database is back"
            }
            Output.error("sleeper: \(message)")
            return status
        } catch {
            if StoreError.isConnectionLoss(error) {
                Output.error("sleeper: the connection to PostgreSQL was lost (\(StoreError.describe(error))); nothing was written. Run the command again once the database is back")
                return 75
            }
            if StoreError.isDatabaseError(error) {
                Output.error("sleeper: database error: \(StoreError.describe(error))")
                return 1
            }
            // The argument parser quotes what it could not parse: never a secret someone passed.
            let message = redactingSecrets(in: fullMessage(for: error), arguments: arguments)
            let code = exitCode(for: error)
            // --help and --version end the parse "with an error" that is their answer, on standard output.
            if code == .success { Output.print(message.hasSuffix("\n") ? message : message + "\n") } else if !message.isEmpty { Output.error(message) }
            return code.rawValue
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
