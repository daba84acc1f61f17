import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

/// `sleeper recall`: withdraw a model, dataset or agent, and plan the fix of its blast radius.
struct RecallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recall",
        abstract: "Recall a model, dataset or agent: count it as compromised and plan the actions over its blast radius.",
        discussion: HelpText.discussion("recall"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: FormatOption
    @Argument(help: "model:KEY, dataset:KEY or agent:KEY.") var subject: String
    @Option(help: "Why it is recalled (kept and audited).") var reason: String
    @Option(help: "Who recalls it (default: the user running the command).") var by: String?
    @Flag(name: .customLong("dry-run"), help: "Show the plan; record nothing.") var dryRun = false

    func run() async throws {
        let target = try parseSubject(subject, "SUBJECT")
        let outcome = try await connection.withDatabase { db in
            try await ScoredChanges(db).recall(target, reason: reason, by: by ?? NSUserName(), dryRun: dryRun, actor: AuditLog.commandLineActor)
        }
        if output.format == .table {
            Output.print(
                (outcome.recall.map { "recall #\($0) of \(target): " } ?? "dry run, nothing recorded: recalling \(target) would make ")
                    + ActionListing.summary(outcome.plan) + "\n"
                    + "resources within reach: \(outcome.resources.isEmpty ? "none" : outcome.resources.joined(separator: ", "))\n")
        }
        Output.print(ListingRenderer.render(ActionListing.plan(outcome.plan), as: output.format))
        if let rescore = outcome.rescore { Output.report(rescore) }
    }
}

/// `sleeper release`: end a standing recall.
struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Release a standing recall: the subject is scored by its own risk again, and its open actions close, citing the release.",
        discussion: HelpText.discussion("release"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "model:KEY, dataset:KEY or agent:KEY.") var subject: String
    @Option(help: "Why it is released.") var reason: String
    @Option(help: "Who releases it (default: the user running the command).") var by: String?

    func run() async throws {
        let target = try parseSubject(subject, "SUBJECT")
        let (id, rescore) = try await connection.withDatabase { db in
            try await ScoredChanges(db).release(target, reason: reason, by: by ?? NSUserName(), actor: AuditLog.commandLineActor)
        }
        Output.print("released recall #\(id) of \(target)\n")
        Output.report(rescore)
    }
}

/// `sleeper actions`: the remediation actions, as they stand; `actions export` as tickets.
struct ActionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actions",
        abstract: "List remediation actions: what to do, who owns it, when it is due, where it stands.",
        subcommands: [List.self, Start.self, Export.self], defaultSubcommand: List.self)

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark an open action as in progress (it still closes only from evidence).",
            discussion: HelpText.discussion("actions start"))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The action's id (see `sleeper actions`).") var id: Int
        @Option(help: "Who is working on it (default: the user running the command).") var by: String?

        func run() async throws {
            try await connection.withDatabase { db in
                try await RemediationActions(db).start(id, by: by ?? NSUserName(), actor: AuditLog.commandLineActor)
            }
            Output.print("action #\(id) is in progress\n")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the actions not done as tickets: a Jira CSV import file, or JSON.",
            discussion: HelpText.discussion(
                "Jira CSV: Summary, Description, Issue Type (Task), Priority (Highest, High, Medium, Low by band), Due Date (YYYY-MM-DD), Labels, Team (the owner), External ID (sleeper-action-ID); map them when importing.",
                "actions export"))
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "jira-csv or json.") var format: String
        @Option(help: "Only this owner's actions ('unowned' for those nobody owns).") var owner: String?
        @Flag(help: "Include the actions that are done or cancelled.") var all = false
        @Option(help: "Write to this file instead of standard output.") var out: String?

        func run() async throws {
            guard let kind = ActionTickets.Format(rawValue: format) else { throw CommandFailure(message: "--format: '\(format)' is not jira-csv or json") }
            let now = SleeperClock.now()
            let actions = try await connection.withDatabase { db in
                try await RemediationActions(db).list(asOf: now, filter: .init(owner: owner))
            }.filter { all || !$0.status.isClosed }
            let text = ActionTickets.render(actions, as: kind)
            if let out {
                guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8)) else { throw CommandFailure(message: "--out: \(out) cannot be written") }
                Output.error("wrote \(actions.count) action(s) to \(out)")
            } else {
                Output.print(text)
            }
        }
    }
}

extension ActionsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List remediation actions: what to do, who owns it, when it is due, where it stands.",
            discussion: HelpText.discussion(
                "Actions close from evidence (SLP-ROTATION on a credential, a rotation date after the recall from a source, a new digest for a model, a removed hold), never by hand.", "actions"))
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: FormatOption
        @Option(help: "Only this owner's actions ('unowned' for those nobody owns).") var owner: String?
        @Flag(help: "Only actions past their due date and not done or accepted.") var overdue = false
        @Option(help: "Only actions in this status (open, in-progress, done, accepted, cancelled).") var status: String?
        @Option(help: "Only the actions of this recall.") var recall: Int?
        @Option(name: .customLong("as-of"), help: "As the actions stood then (default: now).") var asOf: String?

        func run() async throws {
            let state = try status.map { text in
                guard let s = ActionStatus(rawValue: text) else { throw CommandFailure(message: "--status: '\(text)' is not one of open, in-progress, done, accepted, cancelled") }
                return s
            }
            let when = try parseMoment(asOf, "--as-of") ?? SleeperClock.now()
            let actions = try await connection.withDatabase { db in
                try await RemediationActions(db).list(asOf: when, filter: .init(owner: owner, overdue: overdue, status: state, recall: recall))
            }
            Output.print(ListingRenderer.render(ActionListing.actions(actions, asOf: when), as: output.format))
        }
    }
}

/// `sleeper accept`: accept a risk until a date.
struct AcceptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept",
        abstract: "Accept a control's gap or an open action on a subject until a date, with the approver and the reason.",
        discussion: HelpText.discussion("The longest acceptance depends on the band at stake (Controls/remediation.yaml). An acceptance lapses by itself on its date.", "accept"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "KIND:KEY.") var subject: String
    @Option(help: "The control whose gap is accepted.") var control: String?
    @Option(help: "The action that is accepted.") var action: Int?
    @Option(help: "Until when (YYYY-MM-DD means the end of that day UTC; or an ISO 8601 date-time).") var until: String
    @Option(help: "Who approves the acceptance.") var by: String
    @Option(help: "Why the risk is accepted.") var reason: String

    func run() async throws {
        let target = try parseSubject(subject, "SUBJECT")
        let what: RiskAcceptances.Target
        switch (control, action) {
        case (let c?, nil): what = .control(c)
        case (nil, let a?): what = .action(a)
        default: throw CommandFailure(message: "give --control ID or --action ID (one of them)")
        }
        guard let date = try parseMoment(until, "--until") else { throw CommandFailure(message: "--until is required") }
        let accepted = try await connection.withDatabase { db in
            try await RiskAcceptances(db).accept(
                target, what, until: date, by: by, reason: reason, policy: try ScoredChanges.bundledRemediationPolicy(),
                asOf: SleeperClock.now(), actor: AuditLog.commandLineActor)
        }
        Output.print("accepted #\(accepted.id): \(accepted.target) on \(accepted.subject) (\(accepted.band.rawValue)) until \(Timestamps.formatDay(accepted.until)), approved by \(accepted.by)\n")
    }
}
