import Foundation
import SleeperStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Reliability under faults, with real processes: the database is killed in the middle of an
/// import, first runs race, and each time the command must end in bounded time, with an exit code
/// that tells the truth about what was written.
@Suite("Reliability under faults", .timeLimit(.minutes(15)))
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

    /// Waits until `file` has a line containing `marker`, while `child` runs, at most `seconds`.
    static func waitForLine(_ file: String, containing marker: String, while child: Child, seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline && !Task.isCancelled {
            if ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").contains(marker) { return true }
            if !child.isRunning { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// The bound within which a command ends after its database dies (README, "Reliability").
    static let endsAfterLoss: Double = 20

    @Test("killing PostgreSQL during an import, once it is in its database phase, ends the import within 20 s with 0 (committed), 75 (nothing written) or 76 (unknown), and the state agrees")
    func killDuringImport() async throws {
        let estate = FileManager.default.temporaryDirectory.appending(path: "fault-estate-\(UUID().uuidString.prefix(6)).json")
        let synth = try await Fixtures.python("synth", ["--credentials", "30000", "--seed", "2", "--out", estate.path])
        try #require(synth.ok, "\(synth.output)")
        defer { try? FileManager.default.removeItem(at: estate) }
        var outcomes: [String] = []
        for pause in [0.0, 0.3, 1.0] {
            let env = try Self.home("fault-import")
            #expect(try await Fixtures.sleeperProcess(["migrate"], environment: env).status == 0)
            let errors = FileManager.default.temporaryDirectory.appending(path: "fault-import-\(UUID().uuidString.prefix(6)).err").path
            defer { try? FileManager.default.removeItem(atPath: errors) }
            // SLEEPER_TIMING marks the phases: "references checked" is written inside the import's transaction.
            let process = try Child(
                Fixtures.sleeperBinary.path, ["import", estate.path],
                environment: Fixtures.childEnvironment(env.merging(["SLEEPER_TIMING": "1"]) { $1 }), stderr: errors)
            let inDatabase = await Self.waitForLine(errors, containing: "import: references checked", while: process, seconds: Fixtures.longest)
            try #require(inDatabase, "the import never reached its database phase: \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")
            if pause > 0 { try await Task.sleep(for: .seconds(pause)) }
            let pid = try #require(Self.postmasterPID(env))
            kill(pid, SIGKILL)
            let killed = ContinuousClock.now
            let ended = await process.wait(seconds: Self.endsAfterLoss)
            let took = ContinuousClock.now - killed
            if ended == nil { process.kill9() }
            #expect(ended != nil, "the import still ran \(Int(Self.endsAfterLoss)) s after the database was killed (\(pause) s into its database phase)")
            let status = ended ?? -1
            let stderr = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            #expect([0, 75, 76].contains(status), "exit \(status) after a kill \(pause) s into the database phase: \(stderr)")
            if status == 75 { #expect(stderr.contains("nothing was written"), "\(stderr)") }
            if status == 76 { #expect(stderr.contains("unknown"), "\(stderr)") }
            outcomes.append("\(status) in \(took)")
            // The next command brings the cluster back; the import is all there or not at all,
            // and there exactly when the exit said so (76: either, but whole, with its audit row).
            var listed = try await Fixtures.sleeperProcess(["inventory", "credentials", "--format", "csv"], environment: env)
            for _ in 0..<10 where listed.status != 0 {
                try await Task.sleep(for: .seconds(1))
                listed = try await Fixtures.sleeperProcess(["inventory", "credentials", "--format", "csv"], environment: env)
            }
            #expect(listed.status == 0, "\(listed.stderr)")
            let rows = listed.stdout.split(separator: "\r\n").count - 1
            let audit = try await Fixtures.sleeperProcess(["audit", "--format", "json"], environment: env)
            let imported = audit.stdout.contains("inventory.import")
            #expect(rows == 0 || rows == 30000, "a partial import: \(rows) credentials")
            #expect((rows == 30000) == imported, "credentials \(rows), audit row \(imported)")
            if status == 0 { #expect(rows == 30000) }
            if status == 75 { #expect(rows == 0) }
            _ = try await Fixtures.sleeperProcess(["db", "stop"], environment: env)
        }
        print("kill during import: exits \(outcomes)")
    }

    @Test("killing PostgreSQL under scoring and evidence commands: each ends within 20 s with 0, 75 or 76; the records are those reported done; the current run is whole")
    func killDuringScoreAndEvidence() async throws {
        let estate = FileManager.default.temporaryDirectory.appending(path: "fault-score-\(UUID().uuidString.prefix(6)).json")
        let synth = try await Fixtures.python("synth", ["--credentials", "20000", "--seed", "5", "--out", estate.path])
        try #require(synth.ok, "\(synth.output)")
        defer { try? FileManager.default.removeItem(at: estate) }
        var outcomes: [String] = []
        var struck = 0
        for pause in [0.0, 0.1, 0.0] {
            let env = try Self.home("fault-score")
            let imported = try await Fixtures.sleeperProcess(["import", estate.path], environment: env)
            try #require(imported.status == 0, "\(imported.stderr)")
            let models = try await Fixtures.sleeperProcess(["inventory", "models", "--format", "csv"], environment: env).stdout
                .split(separator: "\r\n").dropFirst().prefix(4).compactMap { $0.split(separator: ",").first.map(String.init) }
            try #require(models.count == 4)
            // One full scoring run and four evidence records (each rescoring), all at once.
            var commands = [["score"]]
            for model in models { commands.append(["evidence", "add", "--subject", "model:\(model)", "--control", "SLP-BACKDOOR-SCAN", "--result", "fail"]) }
            // SLEEPER_TIMING marks the phases on standard error: "run lock held" is written once the
            // scoring run holds its lock, before it reads, computes and writes.
            let errors = commands.indices.map { FileManager.default.temporaryDirectory.appending(path: "fault-score-\(UUID().uuidString.prefix(6))-\($0).err").path }
            let marks = errors[0]
            defer { for e in errors { try? FileManager.default.removeItem(atPath: e) } }
            let processes = try commands.enumerated().map { i, arguments in
                try Child(
                    Fixtures.sleeperBinary.path, arguments, environment: Fixtures.childEnvironment(env.merging(["SLEEPER_TIMING": "1"]) { $1 }),
                    stderr: errors[i])
            }
            // Struck once the commands are in their database phase.
            let inDatabase = await Self.waitForLine(marks, containing: "run lock held", while: processes[0], seconds: Fixtures.longest)
            try #require(inDatabase, "the scoring run never reached its database phase: \((try? String(contentsOfFile: marks, encoding: .utf8)) ?? "")")
            if pause > 0 { try await Task.sleep(for: .seconds(pause)) }
            let pid = try #require(Self.postmasterPID(env))
            kill(pid, SIGKILL)
            let killed = ContinuousClock.now
            // A strike that finds no work under way proves nothing (on a starved machine the
            // watcher can see the mark late); at least one trial of the run must strike work.
            let running = processes.filter(\.isRunning).count
            if running > 0 { struck += 1 }
            var statuses: [Int32] = []
            for process in processes {
                let left = Self.endsAfterLoss - Double((ContinuousClock.now - killed).components.seconds)
                if let status = await process.wait(seconds: max(0.1, left)) { statuses.append(status) } else { process.kill9(); statuses.append(-1) }
            }
            let took = ContinuousClock.now - killed
            #expect(!statuses.contains(-1), "a command still ran \(Int(Self.endsAfterLoss)) s after the kill (\(pause) s into the database phase)")
            for (i, (arguments, status)) in zip(commands, statuses).enumerated() {
                #expect(
                    [0, 75, 76].contains(status),
                    "\(arguments.joined(separator: " ")) exited \(status) after a kill \(pause) s into the database phase: \((try? String(contentsOfFile: errors[i], encoding: .utf8)) ?? "")")
            }
            print("kill during score and evidence: \(running) of \(processes.count) running at the kill, all ended \(took) after it")
            outcomes.append(statuses.map(String.init).joined(separator: " "))
            var listed = try await Fixtures.sleeperProcess(["evidence", "list", "--format", "csv"], environment: env)
            for _ in 0..<10 where listed.status != 0 {
                try await Task.sleep(for: .seconds(1))
                listed = try await Fixtures.sleeperProcess(["evidence", "list", "--format", "csv"], environment: env)
            }
            #expect(listed.status == 0, "\(listed.stderr)")
            // Every record reported done is there, none reported not written is; 76 may be either.
            let records = listed.stdout.split(separator: "\r\n").count - 1
            let done = statuses.dropFirst().filter { $0 == 0 }.count, unknown = statuses.dropFirst().filter { $0 == 76 }.count
            #expect(records >= done && records <= done + unknown, "\(records) records; exits \(statuses)")
            #expect(try await Fixtures.sleeperProcess(["verify"], environment: env).status == 0)
            // Whatever run is current is whole: it scored every credential.
            let exposure = try await Fixtures.sleeperProcess(["exposure", "--format", "csv"], environment: env)
            if exposure.status == 0 {
                #expect(exposure.stdout.split(separator: "\r\n").count - 1 == 20000, "a partial run is current")
            } else {
                #expect(exposure.stderr.contains("no scoring run yet"), "\(exposure.stderr)")
            }
            _ = try await Fixtures.sleeperProcess(["db", "stop"], environment: env)
        }
        #expect(struck > 0, "no trial struck while a command was running")
        print("kill during score and evidence: exits \(outcomes); \(struck) of 3 trials struck work under way")
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
            let status = try await Fixtures.sleeperProcess(["db", "status"], environment: env)
            #expect(!status.stdout.contains("server:    running"), "\(status.stdout)")
            // Any command brings it back.
            let again = try await Fixtures.sleeperProcess(["inventory", "models"], environment: env)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try await Fixtures.sleeperProcess(["db", "status"], environment: env).stdout.contains("server:    running"))
            _ = try await Fixtures.sleeperProcess(["db", "stop"], environment: env)
        }
    }
}
