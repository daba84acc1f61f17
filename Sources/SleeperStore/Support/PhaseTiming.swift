import Foundation

/// `SLEEPER_TIMING=1` prints how long each phase of scoring took, on standard error; the
/// benchmark notes in BENCHMARKS.md come from it.
enum PhaseTiming {
    static let enabled = ProcessInfo.processInfo.environment["SLEEPER_TIMING"] != nil

    /// When timing was first asked for: each line says how long after it it was written.
    private static let started = ContinuousClock.now

    static func report(_ phases: @autoclosure () -> String) {
        guard enabled else { return }
        let d = ContinuousClock.now - started
        let elapsed = String(format: "%.3f", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        FileHandle.standardError.write(Data("timing [\(elapsed) s]: \(phases())\n".utf8))
    }
}
