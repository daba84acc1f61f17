import Foundation
import SleeperCLI
import SleeperCore
import Testing

@testable import SleeperStore

/// Files the tests read: the shipped example and small inline documents.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var exampleInventory: Data {
        get throws { try Data(contentsOf: packageRoot.appending(path: "Examples/inventory.yaml")) }
    }

    static func parse(_ yaml: String, file: String = "test.yaml") throws -> ParsedInventory {
        try InventoryReader.read(Data(yaml.utf8), file: file).get()
    }

    static func problems(_ yaml: String, file: String = "test.yaml") -> [InventoryProblem] {
        switch InventoryReader.read(Data(yaml.utf8), file: file) {
        case .success: return []
        case .failure(let p): return p.problems
        }
    }

    /// The built `sleeper` executable, next to the test bundle in the build folder.
    static var sleeperBinary: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appending(path: "sleeper")
            if FileManager.default.isExecutableFile(atPath: candidate.path), !candidate.hasDirectoryPath { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appending(path: ".build/debug/sleeper")
    }

    /// Runs one of `scripts/` with python3 (the OSCAL and OpenAPI validators); status and output.
    static func python(_ script: String, _ arguments: [String]) async throws -> (ok: Bool, output: String) {
        try await python(arguments: [packageRoot.appending(path: "scripts/\(script)").path] + arguments)
    }

    /// Python code given inline (`python3 -c`), for files a test builds with Python's own libraries.
    static func python(code: String, _ arguments: [String] = []) async throws -> (ok: Bool, output: String) {
        try await python(arguments: ["-c", code] + arguments)
    }

    static func python(arguments: [String]) async throws -> (ok: Bool, output: String) {
        let output = FileManager.default.temporaryDirectory.appending(path: "python-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: output) }
        let status = try await ChildSlots.run {
            let child = try Child("/usr/bin/env", ["python3"] + arguments, stdout: output.path, stderr: output.path)
            return await child.finish(within: longest)
        }
        return (status == 0, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    /// The longest any child of a test may run before it is killed and the test fails.
    static let longest: Double = 180

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
    }

    /// Runs several `sleeper` processes at once: all started before any is waited for, and
    /// waited for without holding a thread (a blocked wait per process let only as many run at
    /// once as the machine has cores).
    static func sleeperInParallel(_ argumentLists: [[String]], environment: [String: String] = [:]) async throws -> [Run] {
        let started = try argumentLists.map { try start($0, environment: environment) }
        var runs: [Run] = []
        for s in started {
            let status = await s.child.finish(within: longest)
            runs.append(s.collect(status))
        }
        return runs
    }

    /// A started `sleeper` and the files its output goes to.
    struct Started {
        let child: Child
        let out: URL, err: URL
        let start: ContinuousClock.Instant

        /// `seconds` runs from the start to the moment the child ended (not to when the test
        /// looked: on a busy machine that was seen to be 29 s later for a command that took 0.5).
        func collect(_ status: Int32) -> Run {
            defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
            let took = (child.endedAt ?? .now) - start
            return Run(
                status: status, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
                seconds: Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
        }
    }

    /// The environment of a `sleeper` child: the given one and nothing inherited that could point
    /// it at another database.
    static func childEnvironment(_ environment: [String: String]) -> [String: String] {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        env.merge(environment) { $1 }
        return env
    }

    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Started {
        let scratch = FileManager.default.temporaryDirectory.appending(path: "sleeper-run-\(UUID().uuidString)")
        let out = scratch.appendingPathExtension("out"), err = scratch.appendingPathExtension("err")
        let start = ContinuousClock.now
        let child = try Child(sleeperBinary.path, arguments, environment: childEnvironment(environment), stdout: out.path, stderr: err.path)
        return Started(child: child, out: out, err: err, start: start)
    }

    /// Runs the real CLI as a separate process; past `longest` seconds it is killed and the test fails.
    ///
    /// Waited for without holding a thread: a blocked wait here held one of the machine's two
    /// cooperative threads for as long as the child ran, and two at once stalled every other
    /// test's awaits (a one-second timeout was seen to take 32 s in a full run).
    /// Runs `sleeper` in process, as `Sleeper.run` makes a process's run: its own environment,
    /// clock (`SLEEPER_NOW`) and output, nothing shared with the runs beside it. A command that
    /// reaches no database named by `--database-url` (the embedded default, `serve`) runs as a
    /// process, as does every run of `sleeperProcess`.
    static func sleeper(_ arguments: [String], environment: [String: String] = [:]) async throws -> Run {
        guard runsInProcess(arguments) else { return try await sleeperProcess(arguments, environment: environment) }
        return try await CommandSlots.run {
            let output = CapturedOutput()
            let start = ContinuousClock.now
            let invocation = Invocation(environment: childEnvironment(environment), output: output)
            let status = try await withTimeout(seconds: longest) {
                await Sleeper.run(arguments, invocation: invocation)
            }
            let took = ContinuousClock.now - start
            return Run(
                status: status, stdout: output.stdout, stderr: output.stderr,
                seconds: Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
        }
    }

    /// For what only a process shows: exit by signal, a database killed under it (a command stuck
    /// after the loss exits the process), standard streams of its own.
    static func sleeperProcess(_ arguments: [String], environment: [String: String] = [:]) async throws -> Run {
        try await ChildSlots.run {
            let started = try start(arguments, environment: environment)
            return started.collect(await started.child.finish(within: longest))
        }
    }

    static func runsInProcess(_ arguments: [String]) -> Bool {
        arguments.contains("--database-url") && !["serve", "db"].contains(arguments.first ?? "")
    }
}
