import Foundation
import SleeperCore
import SleeperStore

/// The run a command reads: the one named by `--run`, or the current run.
enum RunChoice {
    static func cite(_ id: Int?, in runs: ScoreRuns) async throws -> RunCitation {
        if let id {
            guard let cited = try await runs.citation(of: id) else { throw CommandFailure(message: "--run: no scoring run \(id)") }
            return cited
        }
        guard let cited = try await runs.latest() else { throw CommandFailure(message: "no scoring run yet: run `sleeper score`") }
        return cited
    }

    /// Which run answered: above a table for a reader, on standard error beside machine formats
    /// so that their output stays parseable.
    static func announce(_ text: String, format: OutputFormat) {
        switch format {
        case .table, .markdown: Output.print(text + "\n")
        default: Output.error(text)
        }
    }
}
