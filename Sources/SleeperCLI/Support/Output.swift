import Foundation

/// Writing to standard output and standard error without buffering surprises between the two.
enum Output {
    /// A reader that stops early (`sleeper exposure | head`) closes the pipe; that ends the
    /// command quietly instead of crashing on the failed write.
    static func print(_ text: String) {
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
        } catch {
            exit(0)
        }
    }

    static func error(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}

/// The bytes of a file named on the command line, or a failure that names it.
func readInputFile(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CommandFailure(message: "\(path): cannot be read (missing or not permitted)")
    }
    return data
}
