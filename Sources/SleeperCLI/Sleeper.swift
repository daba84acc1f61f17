import ArgumentParser

public struct Sleeper: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sleeper",
        abstract: "Govern backdoor risk in AI systems: inventory, evidence, exposure of the credentials AI agents hold.",
        subcommands: []
    )
    public init() {}
}
