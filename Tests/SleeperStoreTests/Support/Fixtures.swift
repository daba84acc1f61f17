import Foundation
import SleeperCore
import Testing

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
    static func python(_ script: String, _ arguments: [String]) throws -> (ok: Bool, output: String) {
        try python(arguments: [packageRoot.appending(path: "scripts/\(script)").path] + arguments)
    }

    /// Python code given inline (`python3 -c`), for files a test builds with Python's own libraries.
    static func python(code: String, _ arguments: [String] = []) throws -> (ok: Bool, output: String) {
        try python(arguments: ["-c", code] + arguments)
    }

    static func python(arguments: [String]) throws -> (ok: Bool, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        defer { try? out.fileHandleForReading.close() }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus == 0, String(decoding: data, as: UTF8.self))
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
    }

    /// Runs several `sleeper` processes at once (all started before any is waited for).
    static func sleeperInParallel(_ argumentLists: [[String]], environment: [String: String] = [:]) async throws -> [Run] {
        try await withThrowingTaskGroup(of: (Int, Run).self) { group in
            for (i, arguments) in argumentLists.enumerated() {
                group.addTask { try await Task.detached { (i, try sleeper(arguments, environment: environment)) }.value }
            }
            var out = [Run?](repeating: nil, count: argumentLists.count)
            for try await (i, run) in group { out[i] = run }
            return out.compactMap { $0 }
        }
    }

    /// Runs the real CLI as a separate process with the given environment (and nothing inherited
    /// that could point it at another database).
    static func sleeper(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = sleeperBinary
        process.arguments = arguments
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        env.merge(environment) { $1 }
        process.environment = env
        // Files rather than pipes: a server started by the command must not hold our reader open.
        let scratch = FileManager.default.temporaryDirectory.appending(path: "sleeper-run-\(UUID().uuidString)")
        let outURL = scratch.appendingPathExtension("out"), errURL = scratch.appendingPathExtension("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        let start = Date()
        // Our copies are closed once the child has its own: left open, a suite's worth of runs
        // took the test process past 1,024 descriptors, where Foundation's `select` loop for
        // child processes stops working and the run hung.
        defer { try? out.close(); try? err.close() }
        try process.run()
        while process.isRunning {
            if Date().timeIntervalSince(start) > 120 { process.terminate(); break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return Run(status: process.terminationStatus, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "", seconds: Date().timeIntervalSince(start))
    }
}
