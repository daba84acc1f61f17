import Foundation
import SleeperCore
import Testing

/// Long commands say what they are doing on a terminal, and nothing when their output goes to a
/// pipe or a file. The terminal is a real pseudo-terminal (`script`).
@Suite("Progress on a terminal", .timeLimit(.minutes(8)))
struct ProgressTests {
    /// Runs `sleeper ARGS` on a pseudo-terminal; returns everything written to it.
    static func onTerminal(_ args: [String], environment: [String: String]) async throws -> (status: Int32, output: String) {
        let quoted = ([Fixtures.sleeperBinary.path] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let output = FileManager.default.temporaryDirectory.appending(path: "terminal-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: output) }
        let child = try Child(
            "/usr/bin/script", ["-qec", quoted, "/dev/null"],
            environment: ProcessInfo.processInfo.environment.merging(environment.merging(["TERM": "xterm"]) { $1 }) { $1 },
            stdout: output.path, stderr: output.path)
        let status = await child.finish(within: Fixtures.longest)
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    @Test("score, export and report show what they are doing on a terminal, then clear the line; into a pipe they show nothing")
    func progress() async throws {
        try await ExportStoreTests.withEstate { _, url in
            let env = TestClock.environment()
            let score = try await Self.onTerminal(["score", "--database-url", url], environment: env)
            #expect(score.status == 0, "\(score.output)")
            #expect(score.output.contains("scoring every credential as of"), "\(score.output)")
            #expect(score.output.contains("\u{1B}[2K"), "the line is cleared before the result")
            #expect(score.output.contains(": scored 11 credentials in"), "\(score.output)")
            let file = try ExportStoreTests.scratch().appending(path: "out.csv")
            let export = try await Self.onTerminal(["export", "csv", "--out", file.path, "--database-url", url], environment: env)
            #expect(export.status == 0 && export.output.contains("writing the csv export"), "\(export.output)")
            let report = try await Self.onTerminal(["report", "--out", file.deletingLastPathComponent().appending(path: "r.md").path, "--database-url", url], environment: env)
            #expect(report.status == 0 && report.output.contains("gathering the review"), "\(report.output)")

            let piped = try await Fixtures.sleeper(["score", "--database-url", url], environment: env)
            #expect(piped.status == 0 && !piped.stderr.contains("scoring every") && !piped.stdout.contains("scoring every"))
        }
    }
}
