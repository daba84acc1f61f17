import Foundation

/// `SLEEPER_TIMING=1` prints how long each phase of scoring took, on standard error; the
/// benchmark notes in BENCHMARKS.md come from it.
enum PhaseTiming {
    static let enabled = ProcessInfo.processInfo.environment["SLEEPER_TIMING"] != nil

    static func report(_ phases: @autoclosure () -> String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("timing: \(phases())\n".utf8))
    }
}
