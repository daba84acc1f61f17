import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

/// `sleeper observe`: what agents did, from their OpenTelemetry traces.
struct ObserveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observe",
        abstract: "Read agents' OpenTelemetry traces and compare what they did with what the inventory says they may do.",
        subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import OTLP/JSON traces (the Collector's file exporter: one document or JSON lines).",
            discussion: HelpText.discussion(
                """
                Spans are read by the GenAI semantic conventions: gen_ai.agent.name or id (on the span or an ancestor), \
                gen_ai.tool.name, server.address or url.full, gen_ai.request.model or response.model, gen_ai.input.messages. \
                Sleeper keeps observed edges (agent → tool, host, model), not spans. A host no resource granted to the \
                agent's credentials lists as an endpoint, a tool not in its tools, a model not in its uses_models is a \
                finding; inputs captured with the traces give trigger candidates. An agent with open findings gets a failed \
                SLP-RUNTIME-MONITOR, which holds its A at 0.9 or more. Bad spans are counted by kind and skipped.
                """, "observe import"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "OTLP/JSON files.") var files: [String]
        @Option(name: .customLong("baseline-days"), help: "An agent observed at least this long that makes a call it never made is a new-after-baseline finding (listed, not failing).")
        var baselineDays = 14

        func run() async throws {
            guard (1...3650).contains(baselineDays) else { throw CommandFailure(message: "--baseline-days: a number of days from 1 to 3650") }
            for file in files {
                let data = try readInputFile(file)
                let imported = try await connection.withDatabase { db in
                    try await ScoredChanges(db).importTraces(data, file: file, baselineDays: baselineDays, actor: AuditLog.commandLineActor)
                }
                if let before = imported.alreadyImported {
                    Output.print("\(file): these \(imported.spans) span(s) were imported at \(Timestamps.format(before)): nothing was counted twice\n")
                    continue
                }
                if imported.allSeenBefore {
                    Output.print("\(file): all \(imported.alreadySeen) span(s) kept were imported before: nothing was counted twice\n")
                    continue
                }
                if imported.alreadySeen > 0 { Output.print("\(file): \(imported.alreadySeen) span(s) imported before were not counted again\n") }
                Output.print(
                    "\(file): "
                        + FindingListing.imported(
                            spans: imported.spans, traces: imported.traces, skipped: imported.skipped,
                            firstSkipped: imported.firstSkipped, unknownAgents: imported.unknownAgents, unlisted: imported.unlisted,
                            edges: imported.edges, findings: imported.findings))
                if !imported.records.isEmpty { Output.print(EvidenceListing.recorded(imported.records)) }
                if let rescore = imported.rescore { Output.report(rescore) }
                // Traces of no agent the inventory knows monitored nothing: never an ordinary success.
                if imported.monitoredTraces == 0 {
                    throw CommandFailure(
                        message: "\(file): nothing was monitored: no trace belongs to an agent of the inventory"
                            + (imported.unknownAgents.isEmpty
                                ? " (no span names an agent: gen_ai.agent.name or gen_ai.agent.id)"
                                : " (they name \(imported.unknownAgents.count) unknown agent(s), e.g. \(FindingListing.unknownSample(imported.unknownAgents, size: 3).map { "'\($0.name)'" }.joined(separator: ", ")); an agent matches by key, name or its trace_names)")
                    )
                }
            }
        }
    }
}

/// `sleeper findings`: what agents were seen doing outside their envelope, and decisions on it.
struct FindingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "findings",
        abstract: "List runtime findings, or mark one acknowledged or a false positive.",
        discussion: HelpText.discussion("findings"),
        subcommands: [List.self, Mark.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List runtime findings, newest first.",
            discussion: HelpText.discussion("findings"))
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: FormatOption
        @Option(help: "Only this agent's findings (its key).") var agent: String?
        @Option(help: "Only findings in this status (open, acknowledged, false-positive).") var status: String?

        func run() async throws {
            let state = try status.map { text in
                guard let s = FindingStatus(rawValue: text) else { throw CommandFailure(message: "--status: '\(text)' is not one of open, acknowledged, false-positive") }
                return s
            }
            // Riskiest first: a triggered call outside the envelope above a benign one of high volume.
            let found = try await connection.withDatabase { db in try await RuntimeStore(db).rankedFindings(agent: agent, status: state).map(\.finding) }
            Output.print(ListingRenderer.render(FindingListing.findings(found), as: output.format))
        }
    }

    struct Mark: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide on a finding: acknowledged (real, handled), false-positive, or open again; audited, and the agent's evidence follows.",
            discussion: HelpText.discussion("findings mark"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The finding's id.") var id: Int
        @Option(help: "acknowledged, false-positive or open.") var status: String
        @Option(help: "Why (kept with the decision).") var reason: String
        @Option(help: "Who decides (default: the user running the command).") var by: String?

        func run() async throws {
            guard let state = FindingStatus(rawValue: status) else { throw CommandFailure(message: "--status: '\(status)' is not one of open, acknowledged, false-positive") }
            let marked = try await connection.withDatabase { db in
                try await ScoredChanges(db).markFinding(id, status: state, reason: reason, by: by ?? NSUserName(), actor: AuditLog.commandLineActor)
            }
            Output.print("finding #\(id) is \(marked.finding.status.rawValue)\n")
            if !marked.records.isEmpty { Output.print(EvidenceListing.recorded(marked.records)) }
            if let rescore = marked.rescore { Output.report(rescore) }
        }
    }
}
