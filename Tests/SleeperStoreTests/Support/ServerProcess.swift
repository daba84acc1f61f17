import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The real `sleeper serve` as a child process on a free port, called over HTTP.
final class ServerProcess: @unchecked Sendable {
    let process: Child
    let output: URL
    /// The database it serves (nil: the embedded cluster).
    let databaseURL: String?
    private(set) var port = 0

    /// With no `databaseURL`, the server uses the embedded cluster of `SLEEPER_HOME` in `environment`.
    init(databaseURL: String?, extra: [String] = [], environment: [String: String] = [:]) async throws {
        self.databaseURL = databaseURL
        output = FileManager.default.temporaryDirectory.appending(path: "sleeper-serve-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process = try Child(Fixtures.sleeperBinary.path,
                            ["serve", "--port", "0"] + (databaseURL.map { ["--database-url", $0] } ?? []) + extra,
                            environment: Fixtures.childEnvironment(["SLEEPER_LOG_LEVEL": "warning"].merging(environment) { $1 }),
                            stdout: output.path, stderr: output.path)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let text = try? String(contentsOf: output, encoding: .utf8),
               let match = text.firstMatch(of: /serving on http:\/\/127\.0\.0\.1:(\d+)/) {
                port = Int(match.1)!
                return
            }
            if !process.isRunning { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        process.kill9()
        throw ServerError(message: "sleeper serve did not start: \(log)")
    }

    struct ServerError: Error { var message: String }

    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
    var pid: Int32 { process.pid }

    /// Waits for the process to end by itself, at most `seconds`; its exit status, or nil.
    func waitForExit(seconds: Double) async -> Int32? {
        await process.wait(seconds: seconds)
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
    func call(_ method: String, _ path: String, token: String? = nil, body: Data? = nil, contentType: String = "application/json",
              headers extra: [String: String] = [:], seconds: Int64 = 90) async throws -> Reply {
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

    /// SIGTERM, then the exit status.
    func stop() async -> Int32 {
        process.signal(SIGTERM)
        if let status = await process.wait(seconds: 20) { return status }
        process.kill9()
        return -1
    }

    /// SIGTERM without waiting, for a `defer` (which cannot await); the process is killed and
    /// reaped when this object goes, if it has not ended by then.
    func terminate() { process.signal(SIGTERM) }

    deinit { if process.isRunning { process.kill9() } }
}
