import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SleeperCLI
import Testing

@testable import SleeperServer
@testable import SleeperStore

/// The real `sleeper serve` on a free port, called over HTTP: run in process by `Sleeper.run`
/// (its own environment, clock, output and log; stopped as SIGTERM stops it), or as a child
/// process where only a process shows what is tested (signals, the embedded default, faults).
final class ServerProcess: @unchecked Sendable {
    /// The child, when run as a process.
    let child: Child?
    /// When run in process: the run, its output, what stops it.
    private let run: Task<Int32, Never>?
    private let captured: CapturedOutput?
    private let shutdown: ServiceShutdown?
    private let output: URL?
    /// The database it serves (nil: the embedded cluster).
    let databaseURL: String?
    private(set) var port = 0

    /// The child process; only for a server started `asProcess`.
    var process: Child { child! }
    var pid: Int32 { process.pid }

    /// With no `databaseURL`, the server uses the embedded cluster of `SLEEPER_HOME` in
    /// `environment`, as a process.
    init(databaseURL: String?, extra: [String] = [], environment: [String: String] = [:], asProcess: Bool = false) async throws {
        self.databaseURL = databaseURL
        let arguments = ["serve", "--port", "0"] + (databaseURL.map { ["--database-url", $0] } ?? []) + extra
        let env = Fixtures.childEnvironment(["SLEEPER_LOG_LEVEL": "warning"].merging(environment) { $1 })
        if asProcess || databaseURL == nil {
            let output = FileManager.default.temporaryDirectory.appending(path: "sleeper-serve-\(UUID().uuidString).log")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            self.output = output
            child = try Child(Fixtures.sleeperBinary.path, arguments, environment: env, stdout: output.path, stderr: output.path)
            (run, captured, shutdown) = (nil, nil, nil)
        } else {
            let captured = CapturedOutput(), shutdown = ServiceShutdown()
            let invocation = Invocation(environment: env, output: captured, shutdown: shutdown)
            (self.captured, self.shutdown, output, child) = (captured, shutdown, nil, nil)
            run = Task { await Sleeper.run(arguments, invocation: invocation) }
        }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let match = log.firstMatch(of: /serving on http:\/\/127\.0\.0\.1:(\d+)/) {
                port = Int(match.1)!
                return
            }
            if let child, !child.isRunning { break }
            if run != nil, await isFinished { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        let log = self.log
        child?.kill9()
        shutdown?.trigger()
        throw ServerError(message: "sleeper serve did not start: \(log)")
    }

    struct ServerError: Error { var message: String }

    var log: String {
        if let captured { return captured.stdout + captured.stderr }
        return output.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
    }

    private var isFinished: Bool {
        get async { await withinSeconds(0.001) { [run] in await run?.value } != nil }
    }

    /// Waits for the server to end by itself, at most `seconds`; its exit status, or nil.
    func waitForExit(seconds: Double) async -> Int32? {
        if let child { return await child.wait(seconds: seconds) }
        guard let run else { return nil }
        return try? await withinSeconds(seconds) { await run.value }?.get()
    }

    struct Reply {
        var status: Int
        var body: String
        var headers: [String: String]
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
    }

    /// One request, answered within `seconds` or failed: the client's deadline bounds connecting,
    /// sending and reading alike (the platform's URL loading once left a test waiting for an answer
    /// that had come, and the runner with it).
    func call(
        _ method: String, _ path: String, token: String? = nil, body: Data? = nil, contentType: String = "application/json",
        headers extra: [String: String] = [:], seconds: Int64 = 90
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: contentType)
        }
        for (name, value) in extra { request.headers.replaceOrAdd(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, deadline: .now() + .seconds(seconds))
        let data = try await response.body.collect(upTo: 512 << 20)
        var headers: [String: String] = [:]
        for h in response.headers { headers[h.name.lowercased()] = headers[h.name.lowercased()].map { "\($0), \(h.value)" } ?? h.value }
        return Reply(status: Int(response.status.code), body: String(buffer: data), headers: headers)
    }

    /// SIGTERM (or, in process, the same graceful shutdown), then the exit status.
    func stop() async -> Int32 {
        if let child {
            child.signal(SIGTERM)
            if let status = await child.wait(seconds: 20) { return status }
            child.kill9()
            return -1
        }
        shutdown?.trigger()
        return await waitForExit(seconds: 20) ?? -1
    }

    /// SIGTERM without waiting, for a `defer` (which cannot await); a child is killed and
    /// reaped when this object goes, if it has not ended by then.
    func terminate() {
        child?.signal(SIGTERM)
        shutdown?.trigger()
    }

    deinit {
        if let child, child.isRunning { child.kill9() }
        shutdown?.trigger()
    }
}
