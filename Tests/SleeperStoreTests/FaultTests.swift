import Foundation
import SleeperStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Reliability under faults, with real processes: the database is killed in the middle of an
/// import, first runs race, and each time the command must end in bounded time, with an exit code
/// that tells the truth about what was written.
@Suite("Reliability under faults", .serialized)
struct FaultTests {
    static func home(_ name: String) throws -> [String: String] {
        let base = try #require(ProcessInfo.processInfo.environment["SLEEPER_TEST_HOME"], "run the tests with scripts/test")
        let home = base + "/\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        chmod(home, 0o755)
        return ["SLEEPER_HOME": home]
    }

    /// Whether a process is still there and not a zombie.
    static func alive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !stat.contains(") Z ")
    }

    static func postmasterPID(_ env: [String: String]) -> pid_t? {
        EmbeddedCluster(home: URL(fileURLWithPath: env["SLEEPER_HOME"] ?? "")).status().pid.map { pid_t($0) }
    }

    @Test("killing PostgreSQL during an import ends the import within 20 s with 0 (committed), 75 (nothing written) or 76 (unknown), and the state agrees")
    func killDuringImport() async throws {
        let estate = FileManager.default.temporaryDirectory.appending(path: "fault-estate-\(UUID().uuidString.prefix(6)).json")
        let synth = try Fixtures.python("synth", ["--credentials", "30000", "--seed", "2", "--out", estate.path])
        try #require(synth.ok, "\(synth.output)")
        defer { try? FileManager.default.removeItem(at: estate) }
        var outcomes: [Int32] = []
        for delay in [1.0, 2.0, 3.0] {
            let env = try Self.home("fault-import")
            #expect(try Fixtures.sleeper(["migrate"], environment: env).status == 0)
            let process = Process()
            process.executableURL = Fixtures.sleeperBinary
            process.arguments = ["import", estate.path]
            process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            process.standardOutput = FileHandle.nullDevice
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            defer { try? errors.fileHandleForReading.close() }
            try await Task.sleep(for: .seconds(delay))
            let pid = try #require(Self.postmasterPID(env))
            kill(pid, SIGKILL)
            let killed = ContinuousClock.now
            while process.isRunning && ContinuousClock.now - killed < .seconds(20) { try await Task.sleep(for: .milliseconds(100)) }
            let ended = !process.isRunning
            if !ended { process.terminate() }
            #expect(ended, "the import still ran 20 s after the database was killed (\(delay) s in)")
            process.waitUntilExit()
            let status = process.terminationStatus
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect([0, 75, 76].contains(status), "exit \(status) after a kill \(delay) s in: \(stderr)")
            if status == 75 { #expect(stderr.contains("nothing was written"), "\(stderr)") }
            if status == 76 { #expect(stderr.contains("unknown"), "\(stderr)") }
            outcomes.append(status)
            // The next command brings the cluster back; the import is all there or not at all,
            // and there exactly when the exit said so (76: either, but whole, with its audit row).
            var listed = try Fixtures.sleeper(["inventory", "credentials", "--format", "csv"], environment: env)
            for _ in 0..<10 where listed.status != 0 {
                try await Task.sleep(for: .seconds(1))
                listed = try Fixtures.sleeper(["inventory", "credentials", "--format", "csv"], environment: env)
            }
            #expect(listed.status == 0, "\(listed.stderr)")
            let rows = listed.stdout.split(separator: "\r\n").count - 1
            let audit = try Fixtures.sleeper(["audit", "--format", "json"], environment: env)
            let imported = audit.stdout.contains("inventory.import")
            #expect(rows == 0 || rows == 30000, "a partial import: \(rows) credentials")
            #expect((rows == 30000) == imported, "credentials \(rows), audit row \(imported)")
            if status == 0 { #expect(rows == 30000) }
            if status == 75 { #expect(rows == 0) }
            _ = try Fixtures.sleeper(["db", "stop"], environment: env)
        }
        print("kill during import: exits \(outcomes)")
    }

    @Test("killing PostgreSQL under scoring and evidence commands: each ends within 20 s with 0, 75 or 76; the records are those reported done; the current run is whole")
    func killDuringScoreAndEvidence() async throws {
        let estate = FileManager.default.temporaryDirectory.appending(path: "fault-score-\(UUID().uuidString.prefix(6)).json")
        let synth = try Fixtures.python("synth", ["--credentials", "20000", "--seed", "5", "--out", estate.path])
        try #require(synth.ok, "\(synth.output)")
        defer { try? FileManager.default.removeItem(at: estate) }
        var outcomes: [String] = []
        for delay in [0.3, 0.8] {
            let env = try Self.home("fault-score")
            let imported = try Fixtures.sleeper(["import", estate.path], environment: env)
            try #require(imported.status == 0, "\(imported.stderr)")
            let models = try Fixtures.sleeper(["inventory", "models", "--format", "csv"], environment: env).stdout
                .split(separator: "\r\n").dropFirst().prefix(4).compactMap { $0.split(separator: ",").first.map(String.init) }
            try #require(models.count == 4)
            // One full scoring run and four evidence records (each rescoring), all at once.
            var commands = [["score"]]
            for model in models { commands.append(["evidence", "add", "--subject", "model:\(model)", "--control", "SLP-BACKDOOR-SCAN", "--result", "fail"]) }
            let processes = try commands.map { arguments in
                let process = Process()
                process.executableURL = Fixtures.sleeperBinary
                process.arguments = arguments
                process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                return process
            }
            try await Task.sleep(for: .seconds(delay))
            let pid = try #require(Self.postmasterPID(env))
            kill(pid, SIGKILL)
            let killed = ContinuousClock.now
            while processes.contains(where: \.isRunning) && ContinuousClock.now - killed < .seconds(20) { try await Task.sleep(for: .milliseconds(100)) }
            for process in processes where process.isRunning { process.terminate() }
            #expect(processes.allSatisfy { $0.terminationReason == .exit }, "a command still ran 20 s after the kill (\(delay) s in)")
            let statuses = processes.map(\.terminationStatus)
            for (arguments, status) in zip(commands, statuses) {
                #expect([0, 75, 76].contains(status), "\(arguments.joined(separator: " ")) exited \(status) after a kill \(delay) s in")
            }
            outcomes.append(statuses.map(String.init).joined(separator: " "))
            var listed = try Fixtures.sleeper(["evidence", "list", "--format", "csv"], environment: env)
            for _ in 0..<10 where listed.status != 0 {
                try await Task.sleep(for: .seconds(1))
                listed = try Fixtures.sleeper(["evidence", "list", "--format", "csv"], environment: env)
            }
            #expect(listed.status == 0, "\(listed.stderr)")
            // Every record reported done is there, none reported not written is; 76 may be either.
            let records = listed.stdout.split(separator: "\r\n").count - 1
            let done = statuses.dropFirst().filter { $0 == 0 }.count, unknown = statuses.dropFirst().filter { $0 == 76 }.count
            #expect(records >= done && records <= done + unknown, "\(records) records; exits \(statuses)")
            #expect(try Fixtures.sleeper(["verify"], environment: env).status == 0)
            // Whatever run is current is whole: it scored every credential.
            let exposure = try Fixtures.sleeper(["exposure", "--format", "csv"], environment: env)
            if exposure.status == 0 {
                #expect(exposure.stdout.split(separator: "\r\n").count - 1 == 20000, "a partial run is current")
            } else {
                #expect(exposure.stderr.contains("no scoring run yet"), "\(exposure.stderr)")
            }
            _ = try Fixtures.sleeper(["db", "stop"], environment: env)
        }
        print("kill during score and evidence: exits \(outcomes)")
    }

    @Test("three `sleeper migrate` at once on a fresh home all succeed; db status tells a crashed server from a running one")
    func firstRunRaceAndStatus() async throws {
        for _ in 0..<3 {
            let env = try Self.home("fault-first-run")
            let runs = try await Fixtures.sleeperInParallel([["migrate"], ["migrate"], ["migrate"]], environment: env)
            for run in runs { #expect(run.status == 0, "\(run.stderr)") }
            let pid = try #require(Self.postmasterPID(env))
            kill(pid, SIGKILL)
            // The signal is sent at once; the process (with a gigabyte of shared memory to give
            // back) is gone a moment later. Until then its socket still answers.
            let killed = ContinuousClock.now
            while Self.alive(pid) && ContinuousClock.now - killed < .seconds(5) { try await Task.sleep(for: .milliseconds(20)) }
            let status = try Fixtures.sleeper(["db", "status"], environment: env)
            #expect(!status.stdout.contains("server:    running"), "\(status.stdout)")
            // Any command brings it back.
            let again = try Fixtures.sleeper(["inventory", "models"], environment: env)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try Fixtures.sleeper(["db", "status"], environment: env).stdout.contains("server:    running"))
            _ = try Fixtures.sleeper(["db", "stop"], environment: env)
        }
    }
}
