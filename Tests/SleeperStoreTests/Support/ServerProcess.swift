import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The real `sleeper serve` as a child process on a free port, called over HTTP.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let output: URL
    private(set) var port = 0

    /// With no `databaseURL`, the server uses the embedded cluster of `SLEEPER_HOME` in `environment`.
    init(databaseURL: String?, extra: [String] = [], environment: [String: String] = [:]) throws {
        output = FileManager.default.temporaryDirectory.appending(path: "sleeper-serve-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process.executableURL = Fixtures.sleeperBinary
        process.arguments = ["serve", "--port", "0"] + (databaseURL.map { ["--database-url", $0] } ?? []) + extra
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory(),
                               "SLEEPER_LOG_LEVEL": "warning"].merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()  // the server has its own; ours would only count against the descriptors
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOf: output, encoding: .utf8),
               let match = text.firstMatch(of: /serving on http:\/\/127\.0\.0\.1:(\d+)/) {
                port = Int(match.1)!
                return
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        process.terminate()
        throw ServerError(message: "sleeper serve did not start: \(log)")
    }

    struct ServerError: Error { var message: String }

    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
    var pid: Int32 { process.processIdentifier }

    /// Waits for the process to end by itself, at most `seconds`; its exit status, or nil.
    func waitForExit(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return process.isRunning ? nil : process.terminationStatus
    }

    struct Reply {
        var status: Int
        var body: String
        var headers: [String: String]
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
    }

    func call(_ method: String, _ path: String, token: String? = nil, body: Data? = nil, contentType: String = "application/json",
              headers extra: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body { request.httpBody = body; request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
        return Reply(status: http.statusCode, body: String(decoding: data, as: UTF8.self), headers: headers)
    }

    /// SIGTERM, then the exit status.
    func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate(); return -1 }
        return process.terminationStatus
    }

    deinit { if process.isRunning { process.terminate() } }
}
