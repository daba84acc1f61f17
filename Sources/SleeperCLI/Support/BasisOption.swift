import ArgumentParser
import SleeperCore

/// `--basis`, for every command that answers for a point in time from the ledger.
struct BasisOption: ParsableArguments {
    @Option(help: "recorded (what was known at --as-of; default) or effective (what is known now about then, backfilled evidence included). Documents say which.")
    var basis: EvidenceBasis = .recorded
}

extension EvidenceBasis: ExpressibleByArgument {}
