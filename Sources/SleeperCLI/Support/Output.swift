import Foundation
import SleeperCore
import SleeperStore

/// Writing to standard output and standard error without buffering surprises between the two.
enum Output {
    /// A reader that stops early (`sleeper exposure | head`) closes the pipe; that ends the
    /// command quietly instead of crashing on the failed write.
    static func print(_ text: String) {
        if let captured = Invocation.current?.output { return captured.write(text, error: false) }
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
        } catch {
            exit(0)
        }
    }

    /// Standard error never shows a value judged secret, whatever quoted it (a message, a key
    /// made from a source's value, a database error).
    static func error(_ text: String) {
        let text = SecretScanner.redacted(text)
        if let captured = Invocation.current?.output { return captured.write(text.hasSuffix("\n") ? text : text + "\n", error: true) }
        try? FileHandle.standardError.write(contentsOf: Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}

extension Output {
    /// What a rescore after a committed change did. A failed rescore is a warning, not a failure:
    /// the change stands (exit 0), and the warning says how to bring the scores up to date.
    static func report(_ rescore: ScoredChanges.Rescore) {
        if rescore.failed { error("warning: " + rescore.summary) } else { print(rescore.summary + "\n") }
    }
}

/// The bytes of a file named on the command line, or a failure that names it.
func readInputFile(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CommandFailure(message: "\(path): cannot be read (missing or not permitted)")
    }
    return data
}
