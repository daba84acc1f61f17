import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One line on the terminal that says what a long command is doing and for how long, rewritten
/// in place; nothing at all when standard error is not a terminal (a pipe, a file, CI), so logs
/// and scripts see only the result.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var phase = ""
    private var fraction: Double?
    private var ticker: Task<Void, Never>?
    private let started = ContinuousClock.now
    let enabled: Bool

    init() {
        enabled = Invocation.current?.output == nil && isatty(2) == 1 && Invocation.environment["TERM"] != "dumb"
    }

    /// What is being done now, and how far along (0…1) when that is known.
    func update(_ phase: String, fraction: Double? = nil) {
        guard enabled else { return }
        lock.lock()
        self.phase = phase
        self.fraction = fraction
        lock.unlock()
        if ticker == nil {
            ticker = Task { [weak self] in
                while !Task.isCancelled {
                    self?.draw()
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        }
        draw()
    }

    func finish() {
        ticker?.cancel()
        ticker = nil
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }

    private func draw() {
        lock.lock()
        let (phase, fraction) = (self.phase, self.fraction)
        lock.unlock()
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var bar = ""
        if let fraction {
            let width = 24, filled = Int((min(1, max(0, fraction)) * Double(width)).rounded())
            bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
        }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(bar)\(phase) · \(String(format: "%.1f", seconds)) s".utf8))
    }
}
