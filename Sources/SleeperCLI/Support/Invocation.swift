import Foundation
import Logging
import SleeperCore
import SleeperServer

/// What one run of the command line reads and writes besides its arguments: its environment and
/// its output. A process has one (its environment, its standard streams); a run in process — as
/// the tests make them, side by side — brings its own, so that runs never see each other's
/// variables, clock or output. Code reads the environment only through here.
public struct Invocation: Sendable {
    public var environment: [String: String]
    /// nil: the process's standard output and error.
    public var output: CapturedOutput?
    /// For `serve` in process: what stops it as SIGTERM stops a process.
    public var shutdown: ServiceShutdown?

    public init(environment: [String: String], output: CapturedOutput? = nil, shutdown: ServiceShutdown? = nil) {
        self.environment = environment
        self.output = output
        self.shutdown = shutdown
    }

    @TaskLocal static var current: Invocation?

    /// The run's environment: its own, else the process's.
    static var environment: [String: String] { current?.environment ?? ProcessInfo.processInfo.environment }

    /// A logger writing where the run writes: its captured output in process, else swift-log's default.
    static func logger(label: String) -> Logger {
        guard let output = current?.output else { return Logger(label: label) }
        return Logger(label: label) { CapturedLogHandler(label: $0, output: output) }
    }
}

/// Standard output and error of a run in process, kept as they are written.
public final class CapturedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()

    public init() {}

    func write(_ text: String, error: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if error { err.append(Data(text.utf8)) } else { out.append(Data(text.utf8)) }
    }

    public var stdout: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: out, as: UTF8.self)
    }

    public var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: err, as: UTF8.self)
    }
}

/// The service's log lines of a run in process, written to its captured output as swift-log's
/// stream handler writes them to a process's standard output.
struct CapturedLogHandler: LogHandler {
    let label: String
    let output: CapturedOutput
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let all = metadata.merging(extra ?? [:]) { $1 }
        let details = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        output.write("\(Timestamps.format(Date())) \(level) \(label) :\(details) \(message)\n", error: false)
    }
}
